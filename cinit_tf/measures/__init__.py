"""Measurements on stored trials that several sections share: survivors, curves over steps, sweeps over sizes."""
