"""Moose reads the project's name here; everything else about the package is in pyproject.toml."""

from setuptools import setup

setup(name="abi")
