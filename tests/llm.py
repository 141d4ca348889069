"""The LLM the tests use where they need one but not the default (the packaged tiny model)."""

TINY_LLM = "smollm2-135m"
