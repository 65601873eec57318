// Words shoppers and help pages use for the same thing, in groups as a tenant writes its own synonyms
// ("voucher = gift card"). WordNet knows general English, not the trade: it has no "voucher" for "gift
// card" nor "dispatched" for "shipped". Every tenant gets these, weighted below its own list, so a passage
// in the visitor's own words still wins.
export const SUPPORT_LEXICON: readonly string[] = [
  // Orders and delivery
  'ship = deliver = dispatch = send out',
  'shipping = delivery = postage = carriage',
  'parcel = package = shipment',
  'abroad = international = overseas = foreign = worldwide = other countries',
  'tomorrow = next day = next business day = overnight',
  'express = fast = rush = expedited = priority',
  'track = tracking = follow = trace = delivery status = order status',
  'tracking number = tracking link = tracking code',
  'customs = import = duties = tariff',
  'courier = carrier = delivery company',
  // Returns, refunds, exchanges
  'return = send back = give back',
  'return shipping = return postage = prepaid label = free returns',
  'refund = reimburse = reimbursement = money back = credit back = repay = money',
  'exchange = swap = trade = replace',
  'tags = labels',
  // A return policy's conditions: a question about wearing or washing an item is about them.
  'unworn = worn = wore = wear = unused',
  'unwashed = wash',
  'deadline = time limit = cutoff = window',
  'sale = discount = discounted = reduced = clearance = markdown',
  'drop off = hand in',
  'post office = postal = drop-off point = parcel shop',
  'free = complimentary = free of charge',
  'cost = price = fee = charge',
  // Payments
  'payment method = credit card = debit card = paypal = apple pay = google pay',
  'invoice = receipt = bill',
  // Accounts and privacy
  'sign in = log in = login = sign on = logon',
  'password = passcode = login details = credentials',
  'locked out = forgot password = cannot sign in',
  'delete = close account = remove = deactivate = erase',
  'personal data = personal information = my data = my info = privacy = gdpr',
  'account = profile',
  'settings = preferences',
  'email = e-mail',
  // Gift cards
  'gift card = voucher = gift certificate = gift voucher = giftcard = e-gift card',
  'balance = remaining = much left',
  'expire = expiry = expiration = valid = validity',
  'store = shop = physical shop = branch',
  // Products
  'size = fit = bigger = smaller = larger',
  'colour = color',
  'in stock = available = availability = back in stock',
  'phone = call = telephone',
];

// A visitor names a country, a shipping page a region ("We ship to 40 countries in Europe"). One way only:
// a question about Europe is not about each of its countries.
const REGIONS: Record<string, string> = {
  europe:
    'Albania Andorra Austria Belgium Bosnia Bulgaria Croatia Cyprus Czechia Czech Denmark Estonia Finland France Germany ' +
    'Greece Hungary Iceland Ireland Italy Kosovo Latvia Liechtenstein Lithuania Luxembourg Malta Moldova Monaco Montenegro ' +
    'Netherlands Holland Macedonia Norway Poland Portugal Romania Serbia Slovakia Slovenia Spain Sweden Switzerland UK ' +
    'Britain England Scotland Wales Ukraine',
  'north america': 'USA America Canada Mexico',
  'south america': 'Argentina Bolivia Brazil Chile Colombia Ecuador Paraguay Peru Uruguay Venezuela',
  asia: 'China Japan Korea India Indonesia Malaysia Philippines Singapore Thailand Vietnam Taiwan Pakistan Bangladesh',
  'middle east': 'UAE Emirates Dubai Israel Qatar Saudi Kuwait Bahrain Oman Lebanon',
  oceania: 'Australia Zealand Fiji',
  africa: 'Egypt Morocco Nigeria Kenya Ghana Tunisia Algeria Ethiopia Senegal',
};
/** A country, as a lower-case word, → its region. */
export const COUNTRY_REGION: ReadonlyMap<string, string> = new Map(
  Object.entries(REGIONS).flatMap(([region, countries]) => countries.split(' ').map((c) => [c.toLowerCase(), region] as const)),
);

// A visitor names the thing, a returns page says "item" ("You can return any unworn, unwashed item"). One way
// only: a question about items is not about jackets.
const THINGS =
  'jacket jackets coat coats parka parkas hoodie hoodies sweater sweaters jumper jumpers shirt shirts blouse blouses dress dresses ' +
  'skirt skirts jeans trousers pants shorts leggings boots boot shoes shoe sneakers trainers sandals socks hat hats cap gloves scarf ' +
  'backpack backpacks bag bags tent tents clothes clothing garment garments stuff';
/** A thing a shop sells, as a lower-case word, → the word help pages use for it. */
export const THING_ITEM: ReadonlyMap<string, string> = new Map(THINGS.split(' ').map((w) => [w, 'item'] as const));

// A question about what something costs is answered by a page saying it is free ("do you charge for
// returns?" ← "Returns are free"). One way only: a question about free things is not about prices.
const ASKS_COST = 'much charge charges charged charging pay paying paid cost costs fee fees price priced';
/** A cost word, as a lower-case word, → the word of the answer that it costs nothing. */
export const COST_ANSWER: ReadonlyMap<string, string> = new Map(ASKS_COST.split(' ').map((w) => [w, 'free'] as const));

// "Where is my parcel?" is answered by a tracking page, which never says "where". Only where the question
// asks where a thing sent is: "where is my money?" and "where do I drop off my parcel?" are not tracking.
const WHERE_SENT =
  /\bwhere(?:['’]s| is| are)?\s+(?:(?:is|are)\s+)?(?:my|our|the|this|that)\s+(?:[a-z]+\s+)?(order|parcel|package|shipment|delivery)s?\b/i;
/** The thing sent whose whereabouts the question asks, as a lower-case word. */
export const whereSent = (question: string): string | undefined => WHERE_SENT.exec(question)?.[1]?.toLowerCase();
/** The word of the page that says where a thing sent is. */
export const WHERE_SENT_ANSWER = 'tracking';

/** Below a tenant's own synonyms (0.9), above WordNet's first sense (0.5). */
export const SUPPORT_LEXICON_WEIGHT = 0.6;
