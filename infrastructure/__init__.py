"""Infrastructure code of the PRM: state machine definitions and the local stack."""
