"""Renderers: one module per output, all pure (a feed, its records and the RenderSettings
-> bytes). Which renderer makes which file: ``outputs``, the registry."""
