"""ieclid: grounded information extraction from text files with a local LLM."""

__version__ = "0.1.0"
