"""Test helpers for plug-in authors: :mod:`nsreason.testing.kb_conformance` checks that a
knowledge-base backend behaves like the built-in ones."""
