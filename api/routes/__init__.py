"""Thin HTTP routes: parse, call one service function, shape the answer with responses."""
