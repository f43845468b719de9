"""Scoring predictions against gold annotations, the way the IE papers do."""
