"""Project tooling (code generation and checks); not deployed."""
