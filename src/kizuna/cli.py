"""Typer command line (filled in by the foundation work)."""
import typer

app = typer.Typer()
