"""hubrota's engine: load a rota problem, solve it with CP-SAT, check and explain the result."""

__version__ = "0.1.0"
