"""Per-program argument rules for the command tool: the option families that make an
allowed program run another program, change the machine, or write where it should not.

Checking program names is not enough: `sort --compress-program=sh` runs a shell and
`date -s` sets the clock. GNU programs accept any unambiguous abbreviation of a long
option (`--compress`, `--se`) and clustered short options (`-us`), so a rule denies a
long option by every prefix of its name and a short option anywhere in a cluster.

A program the operator allows that has no rules here is contained only by the sandbox
(memory/tools/command_sandbox.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArgumentRules:
    """Options a program may not be given, and why."""

    denied_long: frozenset[str] = frozenset()
    denied_short: frozenset[str] = frozenset()
    # Short options that take a value: the rest of their cluster is that value, not options.
    short_with_value: frozenset[str] = frozenset()
    reason: str = ""


def _rules(long: str = "", short: str = "", values: str = "", reason: str = "") -> ArgumentRules:
    return ArgumentRules(
        denied_long=frozenset(long.split()),
        denied_short=frozenset(short),
        short_with_value=frozenset(values),
        reason=reason,
    )


_EXECUTES = "runs another program"

PROGRAM_RULES: dict[str, ArgumentRules] = {
    "sort": _rules(
        long="compress-program",
        values="kStTo",
        reason=_EXECUTES,
    ),
    "date": _rules(long="set", short="s", values="dfrI", reason="sets the machine's clock"),
    "tar": _rules(
        long=(
            "to-command use-compress-program checkpoint-action info-script new-volume-script rsh-command "
            "rmt-command absolute-names"
        ),
        short="IFP",
        values="CbfFgHIKLNTVX",
        reason=_EXECUTES,
    ),
    "rsync": _rules(long="rsh rsync-path", short="e", reason=_EXECUTES),
    "split": _rules(long="filter", reason=_EXECUTES),
    "git": _rules(long="exec-path upload-pack receive-pack config-env", short="c", values="C", reason=_EXECUTES),
    "less": _rules(reason=_EXECUTES),
    "touch": _rules(values="drt"),
    "mkdir": _rules(values="m"),
    "grep": _rules(values="ABCDdefm"),
    "head": _rules(values="cn"),
    "tail": _rules(long="pid", values="cns", reason="waits on another process"),
    "uniq": _rules(values="fsw"),
    "ls": _rules(values="ITw"),
    "wc": _rules(),
    "cat": _rules(),
    "echo": _rules(),
    "pwd": _rules(),
    "true": _rules(),
    "false": _rules(),
}

# find's actions are words, not dashed options: -exec, -ok, -delete, -fprint...
_FIND_DENIED_WORDS = frozenset(
    "-exec -execdir -ok -okdir -delete -fprint -fprint0 -fprintf -fls".split()
)

# Programs whose whole job is running something else (or interpreting a script): no
# option list makes them safe, so only a working sandbox may run them.
PROGRAMS_THAT_RUN_PROGRAMS = frozenset(
    "sh bash dash zsh ksh fish env xargs nice nohup timeout stdbuf setsid chroot sudo su "
    "python python3 perl ruby node awk gawk mawk sed vi vim ed make busybox".split()
)


class ArgumentDenied(ValueError):
    pass


def check_arguments(program: str, arguments: list[str]) -> None:
    """Raise ArgumentDenied naming the first option the program's rules deny."""
    if program == "find":
        for argument in arguments:
            if argument in _FIND_DENIED_WORDS:
                raise ArgumentDenied(f"find {argument} is not allowed: it {_EXECUTES} or writes files")
        return
    rules = PROGRAM_RULES.get(program)
    if rules is None:
        return
    for argument in arguments:
        # "--" is not taken as the end of options: an option's value can be "--" too, and
        # telling the two apart needs the program's own parser. Strict is safe here.
        if argument in ("-", "--") or not argument.startswith("-"):
            continue
        if argument.startswith("--"):
            name = argument[2:].split("=", 1)[0]
            for denied in rules.denied_long:
                if name and denied.startswith(name):
                    raise ArgumentDenied(
                        f"{program} option {argument[:80]!r} (--{denied}) is not allowed: it {rules.reason}"
                    )
            continue
        for letter in argument[1:]:
            if letter in rules.denied_short:
                raise ArgumentDenied(f"{program} option -{letter} (in {argument[:80]!r}) is not allowed: it {rules.reason}")
            if letter in rules.short_with_value:
                break  # the rest of the cluster is this option's value
