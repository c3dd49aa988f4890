"""US street addresses: a building number, a street name ending in one of USPS's street suffixes,
an optional unit, and an optional "City, ST 12345" tail; and post-office boxes."""
from __future__ import annotations

import re
from typing import Iterator

from modelops.privacy.pii.spans import Span
from modelops.privacy.pii.vocabulary import ACCOUNTING, BANKING

# USPS Publication 28, appendix C1: the street suffixes and their standard abbreviations.
STREET_SUFFIXES = """
allee alley ally aly anex annex anx arc arcade av ave aven avenu avenue avn avnue bayou bayoo byu bch beach
bend bnd blf bluff bluffs blfs bot btm bottom boul boulevard boulv blvd br brnch branch brg brdge bridge brk
brook brooks brks burg burgs bg bgs byp bypa bypas bypass byps camp cp cmp canyon canyn cnyn cyn cape cpe
causeway causwa cswy cen cent center centr centre cnter cntr ctr centers ctrs cir circ circl circle crcl crcle
circles cirs clf cliff clfs cliffs clb club common cmn commons cmns cor corner corners cors course crse court ct
courts cts cove cv coves cvs creek crk crescent cres crsent crsnt crest crst crossing crssng xing crossroad
xrd crossroads xrds curve curv dale dl dam dm divide div dv dvd dr driv drive drv drives drs estate est estates
ests exp expr express expressway expw expy ext extension extn extnsn exts extensions fall falls fls ferry frry fry
field fld fields flds flat flt flats flts ford frd fords frds forest forests frst forg forge frg forges frgs
fork frk forks frks fort frt ft freeway freewy frway frwy fwy garden gardn grden grdn gdn gardens gdns grdns
gateway gatewy gatway gtway gtwy glen gln glens glns green grn greens grns grov grove grv groves grvs harb
harbor harbr hbr hrbor harbors hbrs haven hvn ht hts heights highway highwy hiway hiwy hway hwy hill hl hills
hls hllw hollow hollows holw holws inlt inlet is island islnd iss islands islnds isle isles jct jction jctn
junction junctn juncton jctns jcts junctions key ky keys kys knl knol knoll knls knolls lk lake lks lakes land
landing lndg lndng lane ln lgt light lgts lights lf loaf lck lock lcks locks ldg ldge lodg lodge loop loops
lp mall mnr manor manors mnrs mdw meadow mdws meadows medows mews ml mill mls mills missn msn mission
mtwy motorway mnt mt mount mntain mntn mountain mountin mtin mtn mntns mountains mtns nck neck orch orchard
orchrd orchs oval ovl opas overpass park prk parks pk parkway parkwy pkway pkwy pky parkways pkwys pass
passage psge path paths pike pikes pine pne pines pnes pl place plc plain pln plains plns plaza plz plza
point pt points pts port prt ports prts pr prairie prr rad radial radiel radl ramp ranch ranches rnch rnchs
rapid rpd rapids rpds rest rst rdg rdge ridge ridges rdgs riv river rvr rivr rd road roads rds route rte row
rue run shl shoal shls shoals shoar shore shr shoars shores shrs skyway skwy spg spng spring sprng spgs spngs
springs sprngs spur spurs sq sqr sqre squ square sqrs sqs squares sta station statn stn stra strav straven
stravenue stravn strvn strvnue stream streme strm street strt st str streets sts smt sumit sumitt summit ter
terr terrace throughway trwy trace traces trce track tracks trak trk trks trafficway trfy trail trails trl
trls trailer trlr trlrs tunel tunl tunls tunnel tunnels tunnl trnpk turnpike turnpk tpke un union unions uns
underpass upas valley vally vlly vly valleys vlys vdct via viadct viaduct view vw views vws vill villag village
villg villiage vlg villages vlgs ville vl vis vist vista vst vsta walk walks wk wall way wy ways well wells wl wls
""".split()
# In chat, addresses come in lower case; then only a suffix that is no ordinary word is trusted.
LOWERCASE_SUFFIXES = frozenset("st str ave av blvd rd dr ln ct pl pkwy hwy cir ter terr trl street avenue road drive lane court boulevard".split())
STATES = """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND
OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP FM MH PW AA AE AP""".split()

_SUFFIX = "(?:" + "|".join(sorted(STREET_SUFFIXES, key=len, reverse=True)) + ")"
_DIRECTION = r"(?:north|south|east|west|northeast|northwest|southeast|southwest|ne|nw|se|sw|n|s|e|w)\.?"
_WORD = r"(?:[^\W\d_][\w'.-]*|\d{1,3}(?:st|nd|rd|th))"
_UNIT = r"(?:\s*,?\s*(?:apt|apartment|suite|ste|unit|bldg|building|fl|floor|rm|room|lot|dept|#)\.?\s*#?\s*[a-z0-9-]{1,6}\b)"
_CITY_STATE_ZIP = r"(?:\s*,?\s*(?:[^\W\d_][\w.'-]*\s+){0,3}?[^\W\d_][\w.'-]*,?\s+(?:" + "|".join(STATES) + r")\.?\s+\d{5}(?:-\d{4})?(?!\d))"
STREET_ADDRESS = re.compile(
    r"(?<![\w$.,/#-])(?P<number>\d{1,6}(?:-\d{1,5})?[a-z]?)\s+(?:" + _DIRECTION + r"\s+)?"
    r"(?P<name>(?:" + _WORD + r"\s+){0,3}?" + _WORD + r")\s+(?P<suffix>" + _SUFFIX + r")\b\.?"
    r"(?:\s+" + _DIRECTION + r"(?!\w))?" + _UNIT + "?" + _CITY_STATE_ZIP + "?",
    re.IGNORECASE,
)
PO_BOX = re.compile(r"\b(?:p\.?\s?o\.?\s?box|post office box)\s*#?\s*\d{1,7}\b" + _CITY_STATE_ZIP + "?", re.IGNORECASE)
LEDGER_WORDS = ACCOUNTING | BANKING
DIGIT_THEN_WORD = re.compile(r"\d\s+[^\W\d_]")


def find_addresses(text: str) -> Iterator[Span]:
    if DIGIT_THEN_WORD.search(text):
        for match in STREET_ADDRESS.finditer(text):
            if _plausible(match):
                yield Span(match.start(), match.end(), "ADDRESS")
    if "box" in text.lower():
        for match in PO_BOX.finditer(text):
            yield Span(match.start(), match.end(), "ADDRESS")


def _plausible(match: re.Match) -> bool:
    """A street name is capitalised (unless the whole address is lower case with a plain suffix)
    and is no ledger phrase: "2024 Payroll Run" is not an address."""
    name, suffix = match.group("name"), match.group("suffix")
    if all(word.lower() in LEDGER_WORDS for word in name.split()):
        return False
    if name[0].isupper() and suffix[0].isupper():
        return True
    return name.islower() and suffix.lower() in LOWERCASE_SUFFIXES
