"""Internals of the json-formula evaluator behind ``detectors.provenance.formula``.

Split by stage (errors, lexer, parser, functions, interpreter) only to keep each module short;
import from ``detectors.provenance.formula``, never from here.
"""
