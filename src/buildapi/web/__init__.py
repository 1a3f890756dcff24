"""The HTTP face of BuildAPI (FastAPI). Nothing outside this package imports it."""
