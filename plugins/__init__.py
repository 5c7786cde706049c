"""Built-in local mechanisms (liaison station, red pavilion, CPPCC consultation) as pluggy plugins."""
