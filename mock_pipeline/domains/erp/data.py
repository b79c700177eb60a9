"""Egyptian reference data for the ERP domain (seed 001): names, governorates and districts,
phone area codes, customer business types, and the coffee and beverage catalogue.

Faker's ar_EG locale has none of these in Latin script and few of them at all, so they are
constants here; rows pick from them by index. Names are common Egyptian names transliterated
the way they appear on Egyptian business cards and tax forms.
"""

from __future__ import annotations

FIRST_NAMES_MALE: tuple[str, ...] = (
    "Mohamed", "Ahmed", "Mahmoud", "Mostafa", "Omar", "Youssef", "Ali", "Hassan", "Hussein", "Khaled",
    "Amr", "Tarek", "Karim", "Sherif", "Hany", "Ehab", "Walid", "Sameh", "Ayman", "Ashraf", "Ibrahim",
    "Islam", "Mina", "Beshoy", "Girgis", "Kirollos", "Abanoub", "Ramy", "Hazem", "Adel", "Essam",
    "Magdy", "Nabil", "Osama", "Reda", "Saeed", "Tamer", "Wael", "Yasser", "Ziad", "Marwan", "Seif",
    "Abdelrahman", "Abdallah", "Emad", "Fady", "Gamal", "Hesham", "Medhat", "Sayed",
)  # fmt: skip
FIRST_NAMES_FEMALE: tuple[str, ...] = (
    "Fatma", "Mariam", "Nour", "Salma", "Aya", "Yasmin", "Heba", "Dina", "Rania", "Mona", "Nada",
    "Sara", "Habiba", "Menna", "Esraa", "Asmaa", "Doaa", "Eman", "Ghada", "Hanan", "Laila", "Marwa",
    "Nesma", "Reem", "Shaimaa", "Samar", "Amira", "Basma", "Christine", "Marina", "Mirna", "Nermeen",
    "Noha", "Rasha", "Sally", "Zeinab", "Hoda", "Sherine", "Dalia", "Engy",
)  # fmt: skip
FIRST_NAMES: tuple[str, ...] = FIRST_NAMES_MALE + FIRST_NAMES_FEMALE
LAST_NAMES: tuple[str, ...] = (
    "Hassan", "Mohamed", "Ali", "Ibrahim", "Mahmoud", "Abdelaziz", "Abdelrahman", "El Sayed", "Mostafa",
    "Farouk", "Soliman", "Khalil", "Mansour", "Shaker", "Nasser", "Fawzy", "Ghoneim", "Hegazy", "Helmy",
    "Kamel", "Lotfy", "Morsy", "Naguib", "Ramadan", "Saad", "Salem", "Shawky", "Tawfik", "Youssef", "Zaki",
    "Badawy", "Darwish", "El Masry", "El Shazly", "Fahmy", "Gaber", "Hamdy", "Hosny", "Metwally", "Ragab",
    "Sabry", "Said", "Sharaf", "Taha", "Zaghloul", "Girgis", "Boutros", "Hanna", "Wahba", "Iskandar",
    "Abdelmalak", "Attia", "Bakr", "Eid", "Fouad", "Hafez", "Osman", "Radwan", "Sadek", "Wagdy",
)  # fmt: skip

# (governorate, telephone area code, delivery region, districts). Region A is served from the
# Greater Cairo depot, region B from the Alexandria depot; each region has its own delivery days.
GOVERNORATES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Cairo", "2", "A", ("Nasr City", "Heliopolis", "Maadi", "Zamalek", "Downtown", "New Cairo", "Shubra",
                         "El Mokattam", "Ain Shams", "Garden City", "El Rehab", "Madinaty")),
    ("Giza", "2", "A", ("Dokki", "Mohandessin", "Agouza", "Haram", "Faisal", "6th of October", "Sheikh Zayed",
                        "Imbaba", "Omraniya")),
    ("Alexandria", "3", "B", ("Smouha", "Sidi Gaber", "Miami", "Stanley", "Gleem", "Montaza", "Agami",
                              "Sporting", "Loran", "Mansheya")),
    ("Qalyubia", "13", "A", ("Banha", "Shubra El Kheima", "Qalyub", "El Obour", "El Khanka")),
    ("Sharqia", "55", "A", ("Zagazig", "10th of Ramadan", "Belbeis", "Minya El Qamh")),
    ("Dakahlia", "50", "B", ("Mansoura", "Talkha", "Mit Ghamr", "Sherbin")),
    ("Gharbia", "40", "B", ("Tanta", "El Mahalla El Kubra", "Kafr El Zayat", "Zefta")),
    ("Monufia", "48", "B", ("Shebin El Kom", "Menouf", "Sadat City", "Ashmoun")),
    ("Beheira", "45", "B", ("Damanhour", "Kafr El Dawwar", "Rashid", "Edku")),
    ("Damietta", "57", "B", ("Damietta", "New Damietta", "Ras El Bar", "Faraskour")),
    ("Port Said", "66", "A", ("El Arab", "El Sharq", "Port Fouad", "El Manakh")),
    ("Ismailia", "64", "A", ("Ismailia", "Fayed", "El Qantara", "Abu Suwir")),
    ("Suez", "62", "A", ("El Arbaeen", "Ataka", "Faisal", "El Ganayen")),
    ("Faiyum", "84", "A", ("Faiyum", "Sinnuris", "Tamiya", "Ibsheway")),
    ("Beni Suef", "82", "A", ("Beni Suef", "El Wasta", "Nasser", "Beba")),
    ("Minya", "86", "A", ("Minya", "Mallawi", "Samalut", "Beni Mazar")),
    ("Asyut", "88", "A", ("Asyut", "Dayrout", "Manfalut", "Abnub")),
    ("Sohag", "93", "A", ("Sohag", "Akhmim", "Girga", "Tahta")),
    ("Luxor", "95", "A", ("Luxor", "Karnak", "Esna", "Armant")),
    ("Aswan", "97", "A", ("Aswan", "Kom Ombo", "Edfu", "Daraw")),
    ("Red Sea", "65", "A", ("Hurghada", "El Gouna", "Safaga", "Marsa Alam")),
    ("South Sinai", "69", "A", ("Sharm El Sheikh", "Dahab", "Nuweiba", "El Tor")),
    ("Matrouh", "46", "B", ("Marsa Matrouh", "El Alamein", "Sidi Abdel Rahman", "Siwa")),
    ("Kafr El Sheikh", "47", "B", ("Kafr El Sheikh", "Desouk", "Baltim", "Fuwwah")),
)  # fmt: skip
# Where customers are: Greater Cairo and Alexandria dominate.
GOVERNORATE_WEIGHTS: tuple[float, ...] = (
    30, 18, 14, 4, 4, 4, 3, 2, 2, 1.5, 2, 1.5, 1.5, 1, 1, 1, 1, 1, 1.5, 1, 2, 2, 1, 1,
)  # fmt: skip
STREETS: tuple[str, ...] = (
    "El Tahrir St.", "Gamal Abdel Nasser St.", "El Horreya Rd.", "Salah Salem St.", "El Nasr Rd.",
    "Abbas El Akkad St.", "Makram Ebeid St.", "El Thawra St.", "Mostafa El Nahhas St.", "90th St.",
    "Gameat El Dewal El Arabeya St.", "Shehab St.", "El Batal Ahmed Abdel Aziz St.", "Road 9",
    "El Merghany St.", "Baghdad St.", "El Hegaz St.", "Port Said St.", "Saad Zaghloul St.", "El Geish Rd.",
    "Fouad St.", "Syria St.", "El Galaa St.", "Ahmed Orabi St.", "Talaat Harb St.", "Kasr El Nil St.",
    "Mohamed Farid St.", "26th of July St.", "El Haram St.", "Faisal St.",
)  # fmt: skip

# Region A delivers Sunday, Tuesday, Thursday; region B Monday, Wednesday, Saturday (Friday is
# the weekend). ISO weekdays: Monday = 1 .. Sunday = 7.
REGIONS: tuple[str, ...] = ("A", "B")
REGION_ISO_DAYS: dict[str, tuple[int, ...]] = {"A": (2, 4, 7), "B": (1, 3, 6)}
REGION_DEPOTS: dict[str, str] = {"A": "10th of Ramadan DC", "B": "Borg El Arab DC"}

# Who buys coffee from a distributor: the part of the company name after the family or place.
BUSINESS_TYPES: tuple[str, ...] = (
    "Coffee House", "Cafe", "Roastery", "Restaurant", "Hotel", "Trading Co.", "Supermarket", "Bakery",
    "Patisserie", "Office Services", "Catering", "Food Court", "Juice Bar", "Hypermarket", "Resort",
)  # fmt: skip
COMPANY_PREFIXES: tuple[str, ...] = (
    "El Nour", "Al Amal", "Nile", "Delta", "Pyramids", "Sphinx", "Lotus", "El Fayrouz", "Cleopatra",
    "Misr", "El Salam", "Al Madina", "El Horreya", "Zamalek", "Corniche", "El Masreya", "Nefertiti",
    "Ramses", "Luxor", "El Baraka", "Al Rahma", "El Shorouk", "Golden Nile", "Karnak", "Qasr",
    "El Mostakbal", "Sinai", "El Wadi", "Al Ahram", "El Gezira",
)  # fmt: skip
LEGAL_FORMS: tuple[str, ...] = ("S.A.E.", "LLC", "& Partners", "Group")

# Coffee and beverage catalogue: (category, SKU prefix, typical price in EGP, unit, names).
PRODUCT_CATEGORIES: tuple[tuple[str, str, float, str, tuple[str, ...]], ...] = (
    ("Coffee Beans", "CBN", 950.0, "1 kg bag", (
        "Brazilian Santos", "Colombian Supremo", "Ethiopian Yirgacheffe", "Ethiopian Sidamo", "Yemeni Mocha",
        "Kenyan AA", "Guatemalan Antigua", "Indian Monsoon Malabar", "Sumatra Mandheling", "Costa Rica Tarrazu",
        "House Espresso Blend", "Dark Roast Espresso Blend", "Crema Espresso Blend", "Decaf Espresso Blend",
    )),
    ("Turkish Coffee", "TRK", 420.0, "500 g pack", (
        "Turkish Coffee Light Roast", "Turkish Coffee Medium Roast", "Turkish Coffee Dark Roast",
        "Turkish Coffee with Cardamom", "Turkish Coffee Extra Cardamom", "Turkish Coffee Special Blend",
        "Turkish Coffee Mahwag", "Turkish Coffee Sada",
    )),
    ("Ground & Instant", "GIN", 310.0, "box", (
        "Filter Coffee Ground", "French Press Ground", "Instant Coffee Gold", "Instant Coffee Classic",
        "3-in-1 Coffee Mix", "2-in-1 Coffee Mix", "Cappuccino Sachets", "Nescafe-style Instant Jar",
    )),
    ("Tea & Herbs", "TEA", 160.0, "pack", (
        "Black Tea Loose Leaf", "Kushari Tea", "Green Tea Bags", "Mint Tea Bags", "Hibiscus Karkade",
        "Anise Herbal Tea", "Chamomile Tea", "Cinnamon Sticks", "Ginger Lemon Tea", "Earl Grey Tea Bags",
    )),
    ("Hot Drinks Mixes", "MIX", 220.0, "1 kg pack", (
        "Sahlab Mix", "Hot Chocolate Mix", "Chai Latte Powder", "Frappe Base Powder", "Vanilla Frappe Powder",
        "Matcha Latte Powder", "Halabessa Mix",
    )),
    ("Syrups & Sauces", "SYR", 240.0, "750 ml bottle", (
        "Vanilla Syrup", "Caramel Syrup", "Hazelnut Syrup", "Salted Caramel Syrup", "Irish Cream Syrup",
        "Chocolate Sauce", "White Chocolate Sauce", "Cinnamon Syrup", "Mint Syrup", "Coconut Syrup",
    )),
    ("Juices & Cold Drinks", "JCD", 95.0, "1 L carton", (
        "Mango Juice", "Guava Juice", "Orange Juice", "Tamarind Tamr Hindi", "Sobia Drink", "Karkade Cold Brew",
        "Sugarcane Juice Concentrate", "Lemon Mint Concentrate", "Strawberry Nectar", "Cold Brew Coffee",
    )),
    ("Dairy & Alternatives", "DRY", 75.0, "1 L carton", (
        "Full Cream Milk", "Barista Milk", "Skimmed Milk", "Oat Milk", "Almond Milk", "Soy Milk",
        "Whipping Cream", "Condensed Milk",
    )),
    ("Cups & Supplies", "SUP", 380.0, "carton", (
        "Paper Cups 8 oz", "Paper Cups 12 oz", "Double Wall Cups 16 oz", "Cup Lids", "Stirrers",
        "Sugar Sticks", "Brown Sugar Sticks", "Napkins", "Cup Sleeves", "Coffee Filters",
    )),
)  # fmt: skip
PRODUCT_GRADES: tuple[str, ...] = ("Classic", "Premium", "Gold", "Barista Edition", "Professional")
# Name variants beyond the plain catalogue (large catalogues): a product line, optionally tagged.
PRODUCT_LINES: tuple[str, ...] = ("Signature", "Reserve", "House", "Select", "Estate", "Heritage", "Origin", "Craft")
PRODUCT_TAGS: tuple[str, ...] = ("", "Organic", "Fair Trade", "Limited", "Seasonal", "Export")

# Coffee machine service (maintenance visits): what technicians do and which parts they fit.
VISIT_TYPES: tuple[str, ...] = ("preventive", "repair", "installation", "emergency", "inspection")
VISIT_TYPE_WEIGHTS: tuple[float, ...] = (40, 30, 8, 10, 12)
SERVICES: tuple[str, ...] = (
    "Descaling", "Group head cleaning", "Grinder calibration", "Water filter replacement", "Pressure check",
    "Steam wand service", "Boiler inspection", "Pump repair", "Electrical check", "Barista training",
    "Machine installation", "Flowmeter calibration",
)  # fmt: skip
# (spare part, unit cost in EGP)
SPARE_PARTS: tuple[tuple[str, int], ...] = (
    ("Group head gasket", 180), ("Shower screen", 240), ("Portafilter basket", 350), ("Steam wand tip", 160),
    ("Water filter cartridge", 650), ("Pressure gauge", 900), ("Solenoid valve", 1800), ("Vibration pump", 2600),
    ("Heating element", 3200), ("Grinder burr set", 2100), ("Flowmeter", 1400), ("Boiler thermostat", 700),
)  # fmt: skip
# What the technician found, by spare part (same order as SPARE_PARTS): the part fitted answers it.
PART_FINDINGS: tuple[str, ...] = (
    "water leaking around the group head", "uneven extraction from a scaled shower screen",
    "worn portafilter basket", "steam wand blocked with milk residue", "scale build-up from hard water",
    "pressure gauge reading wrong", "group head dripping after shots", "low brewing pressure",
    "machine not heating", "grinder producing an uneven grind", "shot volumes inconsistent",
    "boiler overheating",
)  # fmt: skip

FAILURE_REASONS: tuple[str, ...] = (
    "recipient unavailable", "address not found", "business closed", "refused by customer",
    "vehicle breakdown", "access restricted",
)  # fmt: skip
# Indexed by model.REASON_*: damaged, late, wrong item, quality, billing, backorder.
REFUND_REASONS: tuple[str, ...] = (
    "damaged goods", "late delivery", "wrong item", "quality complaint", "billing error",
    "backordered items arrived late",
)  # fmt: skip
REJECTION_REASONS: tuple[str, ...] = (
    "outside refund window", "goods used or opened", "no proof of damage", "amount already credited",
    "not covered by contract",
)  # fmt: skip
DISCOUNT_REASONS: tuple[str, ...] = (
    "volume discount", "loyalty discount", "seasonal promotion", "new branch opening", "clearance",
)  # fmt: skip
