"""Answer models: the `provider:model` registry, the in-process llama.cpp model, its weights."""
