"""The adlc grammar (adl.lark), shipped inside the package."""
