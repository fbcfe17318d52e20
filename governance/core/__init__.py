"""The bottom layer: settings, the error tree and secret files. Imports nothing else of governance."""
