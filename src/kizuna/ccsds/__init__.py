"""CCSDS Navigation Data Messages: OEM (``kizuna.ccsds.oem``); CDM to come."""
