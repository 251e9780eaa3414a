"""CCSDS Navigation Data Messages: OEM (``kizuna.ccsds.oem``) and CDM (``kizuna.ccsds.cdm``)."""
