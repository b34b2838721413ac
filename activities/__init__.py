"""Activities: persistence, e-mail and the payout ledger, each a class holding its dependencies."""
