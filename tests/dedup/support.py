"""Hand-written corpora for the dedup tests: a few unrelated articles, and helpers to copy them."""

from __future__ import annotations

from thresher.document import Document

ARTICLES = [
    # local news
    """The city council voted on Tuesday night to extend the riverside bike lane by another four kilometres,
ending a debate that had dragged on for most of the year. Supporters packed the public gallery, many of them
wearing yellow vests from the cycling club that first proposed the route in 2019. Council member Sarah Okafor
said the extension would connect two neighbourhoods that currently have no safe way to reach the station
without a car. Opponents argued that the plan removes more than two hundred parking spaces along Mill Street
and that local shop owners were never properly consulted. The final vote was seven to four. Construction is
expected to begin in early spring and to last about nine months, during which the street will be closed to
through traffic on weekdays. The council also approved a small fund to help affected businesses with signage
and delivery arrangements while the work is carried out.""",
    # recipe
    """To make the bread, dissolve the yeast in warm water with a pinch of sugar and leave it for ten minutes
until it turns foamy. Mix the flour and salt in a large bowl, make a well in the centre and pour in the yeast
mixture together with the olive oil. Bring everything together with a wooden spoon, then tip the dough onto a
lightly floured surface and knead it for eight to ten minutes, until it is smooth and springs back when you
press it with a finger. Put the dough back in the oiled bowl, cover it with a damp towel and let it rise in a
warm place for about an hour, or until it has doubled in size. Knock it back, shape it into a round loaf and
leave it to prove for another forty minutes while the oven heats up. Bake for thirty five minutes, until the
crust is deep golden and the loaf sounds hollow when tapped underneath.""",
    # science
    """Astronomers using a radio telescope in the Chilean desert have detected water vapour in the disc of gas
and dust surrounding a young star about four hundred light years away. The discovery suggests that the
building blocks of oceans may already be present at the stage when planets begin to form. The team measured
the faint emission lines of heavy water, in which one hydrogen atom is replaced by deuterium, and compared
their strength with the ratio found in comets of our own solar system. The values were remarkably similar,
which supports the idea that some of the water on Earth is older than the Sun itself. The researchers caution
that the disc is still evolving and that much of the ice could be destroyed before any planet is assembled.
Further observations are planned for next year with a more sensitive receiver.""",
    # sport
    """The home side came from two goals down to win a dramatic match in front of a sold out stadium on
Saturday afternoon. The visitors had looked comfortable after scoring twice in the first twenty minutes, the
second a long range shot that the goalkeeper could only watch as it curled into the top corner. After the
break the coach replaced both wingers, and the change paid off almost immediately when the young striker
headed in a cross from the left. The equaliser arrived with a quarter of an hour remaining after a scramble in
the penalty area, and the winner came deep into stoppage time from a free kick that deflected off the wall.
The result lifts the club to third place in the table, three points behind the leaders with six games left
to play in what has become the closest title race in years.""",
    # technology
    """The new version of the open source database adds support for logical replication between clusters
running different major releases, a feature that administrators have requested for a long time. Until now an
upgrade required either a long maintenance window or a complicated chain of external tools. The release also
improves the query planner, which can now push filters into subqueries that use window functions, and it
reduces the memory used by large sorts by spilling to disk in smaller chunks. Several older configuration
options have been removed, so the project recommends reading the migration notes carefully before upgrading
a production system. Benchmarks published by the developers show a modest improvement for typical web
workloads and a larger gain for analytical queries that scan partitioned tables with many partitions.""",
    # travel
    """The old harbour town is best explored on foot, starting early in the morning before the tour buses
arrive from the capital. Narrow lanes climb from the fish market to a small chapel on the hill, where a
bench offers a view over the red roofs and the lighthouse at the end of the breakwater. Most of the cafes
along the quay serve grilled sardines at lunchtime, and the family run bakery behind the town hall sells an
almond cake that locals claim is the best on the coast. In the afternoon a ferry leaves every two hours for
the island opposite, where a coastal path leads to a sandy beach and a ruined watchtower. Visitors who stay
overnight should book ahead in summer, since the handful of guest houses fill up weeks in advance during the
music festival.""",
]


def perturb(text: str, every: int = 25) -> str:
    """A near copy: every ``every``-th word replaced (about 4% of the words with the default)."""
    words = text.split()
    for i in range(every // 2, len(words), every):
        words[i] = "changed"
    return " ".join(words)


def docs(*pairs: tuple[str, str]) -> list[Document]:
    """Documents from ``(id, text)`` pairs."""
    return [Document(i, t) for i, t in pairs]
