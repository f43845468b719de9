"""`ieclid train`: the ADELIE recipe; instruction data first."""
