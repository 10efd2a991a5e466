"""How the chapters show things: figures inline in both editions, generic plots, explorers, progress,
tables, and the guards on sentences that read a measurement.

Built on the core library only; the lessons build on it.
"""
