"""Pure business rules of shop subscription orders: no I/O, safe in the workflow sandbox."""
