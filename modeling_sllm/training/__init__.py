"""Training: the arguments and their YAML files (`arguments`), the model to train, the paper's parameter groups and the
Trainer (`trainer`), and the `sllm-train` entry point (`cli`)."""
