"""The words that make a street in each language the platform serves, written for this project from
the countries' own addressing standards: USPS Publication 28 (US), Canada Post's street types,
AS/NZS 4819 (Australia, New Zealand), the thoroughfare words of Royal Mail's and An Post's
address files (GB, IE), La Poste's "types de voie" (FR, BE, CH, CA-QC), the INE/Correos "tipos de
vía" (ES), and the compound endings of German and Dutch street names.

Folded to lower case. Three shapes of street use them:

- a type after the name, in English: "12 Baker Street", "3 Evans Intersection";
- a type before the name, in Romance languages: "28, rue de Richard", "Calle Mayor, 5";
- an ending glued to the name, in German and Dutch: "Hauptstraße 5", "Kerkstraat 12".
"""
from __future__ import annotations

import unicodedata


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _as_typed(words: frozenset[str], mute_e: bool = True) -> frozenset[str]:
    """Types as they are also typed: without accents ("allee", "cote", "echangeur") and, with
    ``mute_e``, with the mute final e of a French "-ée" dropped ("allé", "monté"), a slip common
    enough in Canadian and French records that a street typed so is still a street."""
    typed = set(words)
    for word in words:
        typed.add(unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii"))
        if mute_e and word.endswith("ée"):
            typed.add(word[:-1])
    return frozenset(typed)


# USPS Publication 28, appendix C1: the street suffixes and their standard abbreviations.
USPS_SUFFIXES = _words("""
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
""")

# Thoroughfare words of Britain, Ireland, Canada, Australia and New Zealand that USPS does not list.
COMMONWEALTH_TYPES = _words("""
close cl parade pde esplanade esp circuit cct crescent cr rise gardens gdns grove gr wynd mews quay quays wharf
promenade prom approach app chase croft dene drove fold garth gate gates yard vale walk walkway nook brae
broadway row terrace tce place pl reserve intersection concourse corso glade gully loop retreat outlook
strand track turn ramble ridgeway boulevard bvd bvde highway hwy lookout meander pathway pocket reach rotary
round serviceway siding slope spur subway tarn thoroughfare tollway top tor towers triangle vista wade woods
link line lees lane laneway deviation formation footway ronde upper lower trunkway rosebowl piazza sound riviera
boardwalk busway cruiseway distributor elbow follow highroad hike parklands quadrant quad ride shunt steps
tramway underpass view vale wharf artery block bowl circlet dip driveway extension firetrail gateway mall
 grange green ground front frontage foreshore fairway entrance end edge dell
cutting cross crossway copse colonnade circus centreway centre brow byway brace break basin arcade anchorage
amble alleyway access ave st rd dr ct hill hts embankment market buildings cottages court ln sq
villas part strip interchange gap plateau range courtyard stairs roadway riverway quadrangle cul-de-sac
""") | _words("""
abbey acres bay by-pass campus concession conc corners crnrs diversion divers downs harbour harbr heath
highlands hghlds limits lmts maze moor private pvt sideroad subdivision subdiv thicket townline tline turnabout
trnabt grounds grnds landng lkout ptway
""")  # Canada Post's English street types that neither list above has ("Farm" left out: "State Farm")

# After the name in chat (lower case), only a type that is no ordinary English word is trusted.
LOWERCASE_TYPES = _words("st str ave av blvd rd dr ln ct pl pkwy hwy cir ter terr trl street avenue road drive lane court boulevard")

# Romance languages put the type before the name: French, Spanish, Italian, Portuguese, Catalan.
# The French ones include Canada Post's types of Quebec and its abbreviations ("boul", "crois", "tsse").
ROMANCE_TYPES = _as_typed(_words("""
rue avenue av boulevard boul bd bld blvd place pl allée impasse imp chemin ch quai route rte cours square
passage voie faubourg fbg sentier sent esplanade espl promenade prom rond-point rdpt parvis villa cité hameau
lotissement résidence montée ruelle traverse mail carrefour carref côte rang autoroute carré cercle
croissant crois terrasse tsse échangeur éch île pointe cour parc

calle cl avenida avda paseo pº plaza pza camino carretera ctra ronda travesía travesia glorieta callejón
callejon cuesta pasaje pasadizo rambla vía via vial urbanización urbanizacion urb alameda bulevar carrera
costanilla plazuela polígono poligono sector barrio acceso senda ribera muelle partida parque subida
escalinata vereda arroyo jardines cañada canada calleja lugar sendero grupo

viale piazza piazzale corso largo vicolo strada contrada lungomare lungotevere borgo salita

rua travessa praça praca estrada beco

carrer passeig avinguda plaça placa
"""))

# Types no English sentence uses, so that a lower-case one followed by a capitalised name is a
# street even with no number or postcode: "rue de Bonvin", "calle Mayor", "chemin Madeleine Barman".
# ("allé" is also French for "gone": only "allée" and "allee" are trusted without a number.)
UNMISTAKABLE_ROMANCE_TYPES = _as_typed(_words("""
rue chemin allée impasse boulevard quai faubourg ruelle montée lotissement hameau rang
calle avenida avda paseo carretera camino travesía travesia callejón callejon glorieta rambla urbanización
viale piazza piazzale vicolo strada lungomare rua travessa praça praca estrada carrer passeig avinguda plaça
"""), mute_e=False)
# Words before an address that make a Romance type and a name after them a street on their own:
# "Ship to avenue Didier", "Livraison : place Bellecour".
ADDRESS_CUES = _words("""
ship deliver delivery remit moved move address adresse livraison livrer envoyer dirección direccion envío envio
enviar domicilio lieferadresse lieferung indirizzo spedire morada bezorgadres afleveradres
""")

# German and Dutch street names end in these, glued ("Hauptstraße") or as a word ("Berliner Straße").
GERMANIC_ENDINGS = _words("""
straße strasse str. gasse weg allee platz ring damm ufer chaussee pfad steig graben hof
promenade zeile stieg kamp brücke bruecke höhe hoehe winkel

straat laan plein gracht kade dijk singel steeg pad dreef wal burgwal plantsoen baan boulevard
erf hof park lei
""")
# Endings no English word shares, trusted in lower case too: "send it to kerkstraat 12".
UNAMBIGUOUS_ENDINGS = _words("straße strasse str. gasse allee straat laan gracht dreef singel steeg")
# German prepositional streets, found only with a postcode after them: "Am Markt 3, 10115 Berlin".
GERMAN_PREPOSITIONS = ("Am", "An der", "An den", "Auf der", "Auf dem", "Im", "In der", "Unter den", "Zum", "Zur", "Hinter der", "Vor dem")

# Lower-case words inside a street or city name: "rue de la Paix", "Calle del Prado", "Frankfurt am Main".
PARTICLES = _words("de del della la le les du des d' l' y e da do dos das di van von der den het am an im bei upon on sur sous en")

# Units before or after a building number.
UNITS = _words("""
apt apartment suite ste unit flat studio level floor fl room rm lot bldg building dept shop villa
piso puerta pta planta esc escalera bajo dcha izda portal bloque
étage etage bât bat bâtiment batiment app appartement appt escalier esc porte
bus boîte boite whg wohnung etg stock top
bureau local unité unite logement
""")
