"""A student's variant of lab 1: the three CIFAR-100 classes of task 3.

The course's rule (notebooks/Lab1.ipynb): class 1 = group number + 7, class 2 = variant number
+ 30, class 3 = variant number + 50 for the IU5 department, or a fixed class for GUIMC (90) and
for foreign students (93). The offsets have changed between years; `Rule` holds them, so another
year's rule is one argument away.

    >>> classes = variant_classes(group=2, variant=5)
    >>> [(c.index, c.name) for c in classes]
    [(9, 'bottle'), (35, 'girl'), (55, 'otter')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from zoo.errors import OptionError

DEPARTMENTS = ("iu5", "guimc", "foreign")
CIFAR100_CLASSES = 100


@dataclass(frozen=True)
class Rule:
    """class 1 = group + `group_offset`; class 2 = variant + `variant_offset`; class 3 = variant
    + `third_offset` (IU5) or the department's fixed class."""

    group_offset: int = 7
    variant_offset: int = 30
    third_offset: int = 50
    fixed_third: dict[str, int] = field(default_factory=lambda: {"guimc": 90, "foreign": 93})

    def describe(self, department: str) -> tuple[str, str, str]:
        third = (
            f"variant + {self.third_offset}"
            if department not in self.fixed_third
            else str(self.fixed_third[department])
        )
        return (f"group + {self.group_offset}", f"variant + {self.variant_offset}", third)

    @classmethod
    def parse(cls, text: str) -> Rule:
        """ "7,30,50" -> Rule(7, 30, 50) (the departments' fixed classes stay)."""
        try:
            offsets = [int(part) for part in text.replace(" ", "").split(",")]
        except ValueError:
            offsets = []
        if len(offsets) != 3:
            raise OptionError("rule", f"{text!r} is not three whole numbers like 7,30,50")
        return cls(*offsets)


@dataclass(frozen=True)
class VariantClass:
    index: int  # CIFAR-100 fine label
    name: str
    how: str  # "group 2 + 7"


def group_number(group: str | int) -> int:
    """The number the rule adds to: the group itself, or the last number in its name
    ("ИУ5-21М" -> 21)."""
    if isinstance(group, int):
        return group
    text = str(group).strip()
    if text.isdigit():
        return int(text)
    numbers = re.findall(r"\d+", text)
    if not numbers:
        raise OptionError("group", f"{group!r} holds no number for the variant rule")
    return int(numbers[-1])


def variant_classes(
    group: str | int, variant: int, department: str = "iu5", rule: Rule | None = None
) -> list[VariantClass]:
    """The variant's three classes, in the rule's order; OptionError naming the rule when
    they fall outside CIFAR-100's 0..99 or repeat."""
    from zoo.datasets.cifar import CIFAR100_FINE_NAMES

    rule = rule or Rule()
    if department not in DEPARTMENTS:
        raise OptionError("department", f"{department!r} is not one of {', '.join(DEPARTMENTS)}")
    number = group_number(group)
    third = rule.fixed_third.get(department)
    picks = [
        (number + rule.group_offset, f"group {number} + {rule.group_offset}"),
        (variant + rule.variant_offset, f"variant {variant} + {rule.variant_offset}"),
        (
            (variant + rule.third_offset, f"variant {variant} + {rule.third_offset}")
            if third is None
            else (third, f"{department}: {third}")
        ),
    ]
    for index, how in picks:
        if not 0 <= index < CIFAR100_CLASSES:
            raise OptionError(
                "variant",
                f"the rule gives class {index} ({how}), outside CIFAR-100's 0..99: "
                f"check `group=` and `variant=`",
            )
    indices = [index for index, _ in picks]
    if len(set(indices)) < 3:
        raise OptionError(
            "variant",
            f"the rule gives the same class twice ({', '.join(h for _, h in picks)} = "
            f"{indices}): check `group=` and `variant=`",
        )
    return [VariantClass(index, CIFAR100_FINE_NAMES[index], how) for index, how in picks]
