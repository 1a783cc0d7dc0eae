"""Figures and reports of a study."""
