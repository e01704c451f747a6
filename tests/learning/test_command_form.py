"""memory/learning/command_form.py: which spellings of a command share a session-cache key."""

from __future__ import annotations

import pytest

from memory.core.validation import InvalidInput
from memory.learning.command_form import MODES, CommandNormalizer


def keys(mode: str, *commands: str) -> set[str]:
    normalizer = CommandNormalizer(mode)
    return {normalizer.key(command) for command in commands}


def test_spacing_and_flag_spelling_variants_share_one_key_by_default():
    variants = ["ls -la  /tmp", "ls -a -l /tmp", "ls  -l -a /tmp", "  ls -al '/tmp'  ", "ls -l /tmp -a"]
    assert keys("sorted-flags", *variants) == {"ls -a -l /tmp"}
    assert CommandNormalizer().mode == "sorted-flags"


def test_different_programs_or_positionals_get_different_keys():
    normalizer = CommandNormalizer()
    assert normalizer.key("ls -la /tmp") != normalizer.key("ls -la /var")
    assert normalizer.key("ls -la /tmp") != normalizer.key("dir -la /tmp")
    assert normalizer.key("ls -la /tmp") != normalizer.key("ls -l /tmp")
    # Positional order matters: copying a onto b is not copying b onto a.
    assert normalizer.key("cp a b") != normalizer.key("cp b a")
    # Quoting is meaning: one argument with a space is not two arguments.
    assert normalizer.key('grep "a b" notes.txt') != normalizer.key("grep a b notes.txt")


def test_long_options_with_values_stay_whole_and_sort_among_the_flags():
    assert keys("sorted-flags", "sort --key=2 -r data.csv", "sort -r --key=2 data.csv") == {
        "sort --key=2 -r data.csv"
    }
    assert keys("sorted-flags", "sort --key=2 data.csv") != keys("sorted-flags", "sort --key=3 data.csv")


def test_after_a_double_dash_everything_is_positional():
    normalizer = CommandNormalizer()
    assert normalizer.key("rm -- -f x") == "rm -- -f x"
    assert normalizer.key("rm -- -f x") != normalizer.key("rm -f -- x")
    assert normalizer.key("cat - notes.txt") == "cat - notes.txt"


def test_an_option_value_given_separately_counts_as_positional():
    # The documented limit: no per-program grammar, so `5` is a positional argument. Spacing
    # and flag order still collapse; different values still differ.
    normalizer = CommandNormalizer()
    assert normalizer.key("head -n 5 -q f") == normalizer.key("head  -q -n 5 f") == "head -n -q 5 f"
    assert normalizer.key("head -n 5 f") != normalizer.key("head -n 6 f")


def test_exact_mode_only_strips():
    assert keys("exact", "ls -la /tmp", "  ls -la /tmp\n") == {"ls -la /tmp"}
    assert len(keys("exact", "ls -la /tmp", "ls  -la /tmp", "ls -al /tmp")) == 3


def test_whitespace_mode_collapses_spacing_and_quoting_but_not_order():
    assert keys("whitespace", "ls -la  /tmp", "ls '-la' \"/tmp\"", "ls\t-la /tmp") == {"ls -la /tmp"}
    assert len(keys("whitespace", "ls -la /tmp", "ls -al /tmp", "ls -a -l /tmp")) == 3
    assert CommandNormalizer("whitespace").key('grep "a b" f') == "grep 'a b' f"


def test_sorted_args_mode_ignores_every_argument_order():
    assert keys("sorted-args", "cp a b", "cp b a", "cp  b  a") == {"cp a b"}
    assert keys("sorted-args", "ls -l -a /tmp", "ls /tmp -a -l") == {"ls -a -l /tmp"}
    # Clusters are not expanded in this mode.
    assert keys("sorted-args", "ls -la /tmp") != keys("sorted-args", "ls -a -l /tmp")


@pytest.mark.parametrize("mode", [m for m in MODES if m != "exact"])
def test_unbalanced_quotes_fall_back_to_collapsed_whitespace(mode):
    normalizer = CommandNormalizer(mode)
    assert normalizer.key('echo  "unfinished   business') == 'echo "unfinished business'
    assert normalizer.key("grep 'it's  here' f") == "grep 'it's here' f"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_a_blank_command_is_refused(mode, blank):
    with pytest.raises(InvalidInput, match="empty"):
        CommandNormalizer(mode).key(blank)


def test_an_unknown_mode_is_refused_naming_the_modes():
    with pytest.raises(InvalidInput, match="exact, whitespace, sorted-flags, sorted-args"):
        CommandNormalizer("sorted")
