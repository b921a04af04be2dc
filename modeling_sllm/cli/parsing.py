# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
How every script reads its arguments: the fields of its dataclasses (`HfArgumentParser`) from `--config file.yaml`
(optional) and the command line, which overrides the file ([`parse_args_with_yaml`]), with a `--help` that lists
`--config` first and the options grouped by dataclass ([`arrange_help`]).
"""

import argparse
import dataclasses
import inspect
import os
import re
import sys

from transformers import HfArgumentParser, TrainingArguments


__all__ = ["arrange_help", "parse_args_with_yaml"]


class _CompactHelpFormatter(argparse.HelpFormatter):
    """Each option once with its value type (`--max_steps INT`, not also `--max-steps MAX_STEPS`), help beside it
    where it fits, no `(default: None)` noise."""

    def __init__(self, prog, indent_increment=2, max_help_position=34, width=None):
        super().__init__(prog, indent_increment, max_help_position, width)

    def _format_action_invocation(self, action):
        if not action.option_strings or action.dest == "help":
            return super()._format_action_invocation(action)
        if action.nargs == 0:
            return action.option_strings[0]
        return (
            f"{action.option_strings[0]} {self._format_args(action, self._get_default_metavar_for_optional(action))}"
        )

    def _get_default_metavar_for_optional(self, action):
        kind = getattr(action.type, "__name__", "")
        names = {"int": "INT", "float": "FLOAT", "str": "STR", "string_to_bool": "BOOL"}
        return names.get(kind, super()._get_default_metavar_for_optional(action))

    def _get_help_string(self, action):
        help = action.help or ""
        if action.required:
            return help + " (required)"
        if "%(default)" in help or action.default in (None, argparse.SUPPRESS, []) or action.nargs == 0:
            return help
        return help + " (default: %(default)s)"


def _group_title(dtype) -> tuple[str, str | None]:
    """A dataclass's help group: `_argument_group_name` or its name, and the first paragraph of its docstring."""
    doc = inspect.cleandoc(dtype.__doc__ or "")
    if doc.startswith(f"{dtype.__name__}("):  # the signature dataclasses writes for undocumented classes
        doc = ""
    doc = re.sub(r"\[`~?([^`]+)`\]", r"\1", doc.split("\n\n")[0])  # doc-builder links: [`X`] -> X
    return getattr(dtype, "_argument_group_name", dtype.__name__), doc or None


def arrange_help(parser: HfArgumentParser) -> HfArgumentParser:
    """
    Makes `--help` readable: `--config` listed first, one help group per dataclass (the Trainer's own options last,
    apart from the ones SLLM sets), each option shown once, a one-line usage. Parsing is unchanged.
    """
    if "--config" not in parser._option_string_actions:
        action = parser.add_argument(
            "--config",
            metavar="FILE.yaml",
            default=argparse.SUPPRESS,  # read by parse_args_with_yaml before the dataclasses are parsed
            help="YAML file of argument values (any option below, by its name); the command line overrides it.",
        )
        for actions in (parser._actions, parser._optionals._group_actions):
            actions.remove(action)
            actions.insert(1 if actions and actions[0].dest == "help" else 0, action)
    dataclass_types = list(getattr(parser, "dataclass_types", []))
    if len(dataclass_types) > 1:
        ordered = []
        for dtype in dataclass_types:
            names = {item.name for item in dataclasses.fields(dtype) if item.init}
            split = [names]
            if issubclass(dtype, TrainingArguments) and dtype is not TrainingArguments:
                own = set(vars(dtype).get("__annotations__", {}))
                split = [names & own, names - own]
            for index, group_names in enumerate(split):
                title, description = _group_title(dtype)
                if index == 1:
                    title = "Other Trainer options (transformers.TrainingArguments)"
                    description = "See https://huggingface.co/docs/transformers/main_classes/trainer#trainingarguments"
                group = parser.add_argument_group(title, description)
                parser._action_groups.remove(group)
                for old_group in parser._action_groups:
                    moved = [a for a in old_group._group_actions if a.dest in group_names and a.dest != "config"]
                    for action in moved:
                        old_group._group_actions.remove(action)
                        group._group_actions.append(action)
                if group._group_actions:
                    ordered.append((index, group))
        builtin = [parser._positionals, parser._optionals]
        others = [g for g in parser._action_groups if g not in builtin and g._group_actions]
        ordered = [group for _, group in sorted(ordered, key=lambda item: item[0])]  # the Trainer's own ones last
        parser._action_groups = builtin + ordered + others
    for action in parser._actions:
        if action.option_strings and action.option_strings[0] == f"--no_{action.dest}":
            action.help = f"Same as --{action.dest} false."  # the complement HfArgumentParser adds to True flags
        elif action.choices is not None and action.metavar is None and len(",".join(map(str, action.choices))) > 40:
            action.metavar = "NAME"  # a long list of choices (e.g. --optim): the help names where they are listed
    if parser.formatter_class is not None and not issubclass(parser.formatter_class, _CompactHelpFormatter):
        bases = (_CompactHelpFormatter, argparse.RawDescriptionHelpFormatter)
        parser.formatter_class = type("SLLMHelpFormatter", bases, {})
    if parser.usage is None:  # the help starts with the description when there is one
        parser.usage = (
            argparse.SUPPRESS if parser.description else "%(prog)s [--config FILE.yaml] [--option value ...]"
        )
    return parser


def parse_args_with_yaml(parser: HfArgumentParser, args: list[str] | None = None):
    """
    Parses `parser`'s dataclasses from `--config file.yaml` (optional) and the command line: the YAML keys become the
    defaults and any `--key value` on the command line overrides them. Unknown YAML keys are an error naming them.
    `--help` lists `--config` first and the options grouped by dataclass (see [`arrange_help`]).
    """
    import yaml

    arrange_help(parser)
    args = sys.argv[1:] if args is None else list(args)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", default=None)
    known, rest = pre.parse_known_args(args)
    if known.config is not None:
        if not os.path.isfile(known.config):
            raise FileNotFoundError(f"Config file {known.config!r} does not exist.")
        with open(known.config, encoding="utf-8") as handle:
            values = yaml.safe_load(handle) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{known.config}: expected a mapping of argument names to values.")
        dests = {action.dest for action in parser._actions if action.dest != "config"}
        unknown = sorted(set(values) - dests)
        if unknown:
            raise ValueError(f"{known.config}: unknown keys {unknown}.")
        parser.set_defaults(**values)
        # required fields given by the YAML are no longer required on the command line
        for action in parser._actions:
            if action.dest in values:
                action.required = False
    return parser.parse_args_into_dataclasses(args=rest, look_for_args_file=False)
