"""The policy's source: YAML files → a typed, validated Policy (every problem with file:line:column)."""
