"""Where settings come from: the table (``table``), the config file and the environment
(``loading``), the starter file (``starter``) and the digest of a build's inputs
(``fingerprint``). The model itself is ``frfeeds.settings``."""
