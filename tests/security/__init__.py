"""Controls against input an attacker chooses: one-line text, notices, uploads, flashes, bank files."""
