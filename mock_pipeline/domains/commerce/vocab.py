"""The shop's vocabulary: what each sub-category sells, how its products are described, why they
come back, what reviewers and customers write. Text is composed from these by index arithmetic."""

from __future__ import annotations

# Per sub-category (in CATEGORY_TREE order: two per top category): nouns and variants
# (material, flavour, genre, size...) that only make sense there.
SUBCATEGORY_NOUNS: tuple[tuple[str, ...], ...] = (
    ("Headphones", "Earbuds", "Bluetooth Speaker", "Soundbar", "Turntable", "Headset", "Radio", "Amplifier", "Microphone", "Subwoofer"),  # Audio
    ("Laptop", "Monitor", "Keyboard", "Mouse", "Webcam", "USB Hub", "External Drive", "Docking Station", "Router", "Tablet"),  # Computers
    ("Chinos", "Oxford Shirt", "Polo Shirt", "Blazer", "Jeans", "Parka", "Hoodie", "Sweater", "Shorts", "Overshirt"),  # Menswear
    ("Blouse", "Midi Dress", "Skirt", "Cardigan", "Trench Coat", "Leggings", "Jumpsuit", "Tunic", "Wrap Dress", "Knit Top"),  # Womenswear
    ("Frying Pan", "Saucepan", "Stock Pot", "Wok", "Dutch Oven", "Knife Set", "Baking Tray", "Casserole Dish", "Grill Pan", "Kettle"),  # Cookware
    ("Armchair", "Bookshelf", "Coffee Table", "Dining Chair", "Bed Frame", "Desk", "Sideboard", "Bar Stool", "Nightstand", "Sofa"),  # Furniture
    ("Novel", "Thriller", "Short Story Collection", "Mystery", "Romance", "Fantasy Epic", "Historical Novel", "Graphic Novel", "Sci-Fi Saga", "Novella"),  # Fiction
    ("Biography", "Cookbook", "History", "Travel Guide", "Memoir", "Field Guide", "Essay Collection", "Atlas", "Self-Help Book", "Science Primer"),  # Non-fiction
    ("Yoga Mat", "Dumbbell Set", "Kettlebell", "Resistance Bands", "Jump Rope", "Foam Roller", "Pull-Up Bar", "Exercise Bike", "Ab Wheel", "Weight Bench"),  # Fitness
    ("Tent", "Sleeping Bag", "Camping Stove", "Headlamp", "Lantern", "Camp Chair", "Hiking Backpack", "Water Filter", "Cooler", "Hammock"),  # Camping
    ("Strategy Game", "Party Game", "Card Game", "Trivia Game", "Cooperative Game", "Dice Game", "Chess Set", "Word Game", "Deck-Building Game", "Family Game"),  # Board Games
    ("Castle Set", "Space Station Set", "Train Set", "Robot Kit", "Bridge Kit", "City Block Set", "Marble Run", "Race Car Kit", "Dinosaur Set", "Pirate Ship Set"),  # Building Sets
    ("Face Cream", "Serum", "Cleanser", "Toner", "Eye Cream", "Sunscreen", "Face Mask", "Night Cream", "Exfoliator", "Lip Balm"),  # Skincare
    ("Eau de Parfum", "Eau de Toilette", "Cologne", "Body Mist", "Perfume Oil", "Solid Perfume", "Fragrance Set", "Travel Spray", "Aftershave", "Scented Candle"),  # Fragrance
    ("Trail Mix", "Granola Bars", "Pretzels", "Popcorn", "Rice Crackers", "Dark Chocolate", "Dried Mango", "Mixed Nuts", "Protein Bars", "Potato Chips"),  # Snacks
    ("Coffee Beans", "Green Tea", "Sparkling Water", "Orange Juice", "Cold Brew", "Herbal Tea", "Kombucha", "Hot Chocolate", "Lemonade", "Espresso Pods"),  # Beverages
    ("Car Wax", "Car Shampoo", "Microfiber Cloths", "Tire Shine", "Glass Cleaner", "Interior Detailer", "Clay Bar Kit", "Polishing Compound", "Wheel Cleaner", "Leather Conditioner"),  # Car Care
    ("Phone Mount", "Seat Covers", "Floor Mats", "Dash Cam", "Jump Starter", "Tire Gauge", "Sunshade", "Trunk Organizer", "Wiper Blades", "Steering Wheel Cover"),  # Accessories
    ("Pruning Shears", "Trowel", "Garden Rake", "Hedge Trimmer", "Spade", "Hose Reel", "Watering Can", "Wheelbarrow", "Leaf Blower", "Hand Fork"),  # Tools
    ("Bonsai Tree", "Succulent Trio", "Lavender Plant", "Fern", "Orchid", "Herb Seedlings", "Olive Tree", "Snake Plant", "Rose Bush", "Tomato Plants"),  # Plants
    ("Multivitamin", "Vitamin D3", "Omega-3", "Magnesium", "Vitamin C", "Probiotic", "Zinc Tablets", "B-Complex", "Iron Supplement", "Collagen"),  # Vitamins
    ("First Aid Kit", "Bandages", "Thermometer", "Antiseptic Spray", "Gauze Pads", "Cold Pack", "Elastic Wrap", "Blister Plasters", "Tweezers Set", "Burn Gel"),  # First Aid
    ("Notebook", "Pen Set", "Planner", "Sticky Notes", "Highlighters", "Desk Organizer", "Stapler", "Binder", "Fountain Pen", "Sketchbook"),  # Stationery
    ("Inkjet Printer", "Laser Printer", "Label Printer", "Photo Printer", "Ink Cartridge", "Toner Cartridge", "Printer Paper", "Scanner", "All-in-One Printer", "Receipt Printer"),  # Printers
)  # fmt: skip
SUBCATEGORY_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("Noise-Cancelling", "Wireless", "Studio", "Bass", "Hi-Fi", "Portable", "Over-Ear", "Bluetooth"),
    ("14-inch", "27-inch", "Ergonomic", "Mechanical", "4K", "USB-C", "Gaming", "Slim"),
    ("Cotton", "Linen", "Wool", "Denim", "Slim-Fit", "Relaxed-Fit", "Stretch", "Flannel"),
    ("Silk", "Cotton", "Linen", "Satin", "Knit", "Floral", "Pleated", "Jersey"),
    ("Cast Iron", "Non-Stick", "Stainless Steel", "Copper", "Ceramic", "Carbon Steel", "Enamelled", "Tri-Ply"),
    ("Oak", "Walnut", "Pine", "Rattan", "Velvet", "Leather", "Bamboo", "Upholstered"),
    ("Paperback", "Hardcover", "Illustrated", "Award-Winning", "Acclaimed", "Debut", "Collected", "Annotated"),
    ("Paperback", "Hardcover", "Illustrated", "Pocket", "Revised", "Complete", "Concise", "Practical"),
    ("Non-Slip", "Adjustable", "Cork", "Heavy", "Foldable", "Cast Iron", "Padded", "Home Gym"),
    ("2-Person", "4-Person", "Ultralight", "Waterproof", "Three-Season", "Insulated", "Rechargeable", "Compact"),
    (
        "Deluxe Edition",
        "Travel Edition",
        "Two-Player",
        "Classic Edition",
        "Expansion",
        "Family Edition",
        "Anniversary Edition",
        "Pocket",
    ),
    ("500-Piece", "1000-Piece", "Motorised", "Starter", "Magnetic", "Wooden", "Creator", "Junior"),
    ("Hydrating", "Vitamin C", "Retinol", "Hyaluronic", "Gentle", "Oil-Free", "SPF 50", "Fragrance-Free"),
    ("Citrus", "Woody", "Floral", "Amber", "Vanilla", "Oud", "Fresh Aquatic", "Musk"),
    ("Salted", "Honey Roasted", "Chili Lime", "Sea Salt", "Cranberry", "Maple", "Cheddar", "Almond"),
    ("Organic", "Decaf", "Single-Origin", "Lightly Sweetened", "Unsweetened", "Ginger", "Citrus", "Dark Roast"),
    ("Carnauba", "Ceramic", "Waterless", "pH-Neutral", "Quick Detail", "Professional", "Foaming", "Graphene"),
    ("Magnetic", "Universal", "All-Weather", "Leather", "Heavy-Duty", "Front and Rear", "Custom-Fit", "1080p"),
    ("Bypass", "Stainless", "Ergonomic", "Cordless", "Telescopic", "Forged", "Lightweight", "Carbon Steel"),
    ("Indoor", "Outdoor", "Potted", "Dwarf", "Flowering", "Evergreen", "Heirloom", "Starter"),
    ("Daily", "Extra Strength", "Vegan", "Slow-Release", "Chewable", "Gummy", "High-Potency", "Liquid"),
    ("Travel", "Family", "Sterile", "Waterproof", "Digital", "Reusable", "Hypoallergenic", "Sport"),
    ("A5", "Dotted", "Refillable", "Gel Ink", "Recycled", "Hardback", "Pastel", "Weekly"),
    ("Wireless", "Colour", "Mono", "Duplex", "High-Yield", "Compact", "A4", "Thermal"),
)
# Neutral adjectives that fit any product.
ADJECTIVES = ("Classic", "Premium", "Essential", "Everyday", "Signature", "Original", "Select", "Heritage",
              "Modern", "Pro", "Deluxe", "Urban", "Nordic", "Studio", "Prime", "Elite", "Atlas", "Summit", "Harbor",
              "Maple", "Aurora", "Vista", "Metro", "Coastal", "Alpine", "Evergreen", "Horizon", "Crest", "Pioneer",
              "Meridian", "Cascade", "Keystone")  # fmt: skip
# Per sub-category: the selling points a description names.
SUBCATEGORY_FEATURES: tuple[tuple[str, ...], ...] = (
    ("long battery life", "a clear, balanced sound", "a stable Bluetooth connection", "soft memory-foam cushions"),
    ("fast USB-C charging", "a sturdy aluminium body", "plug-and-play set-up", "a two-year manufacturer warranty"),
    ("a comfortable fit that keeps its shape", "breathable fabric for all-day wear", "reinforced seams",
     "colours that do not fade in the wash"),
    ("a flattering, tailored cut", "soft fabric that drapes well", "a lining that does not cling",
     "colours that do not fade in the wash"),
    ("even heat distribution", "an easy-clean surface", "oven-safe handles", "a base that works on induction"),
    ("solid construction that lasts for years", "easy assembly in under an hour", "a finish that resists scratches",
     "a design that suits any room"),
    ("a gripping story that is hard to put down", "characters that stay with you", "a new afterword by the author",
     "a beautifully designed cover"),
    ("clear writing and thorough research", "practical tips you can use today", "photographs and maps throughout",
     "an index that makes it easy to look things up"),
    ("durable materials built for regular training", "a non-slip grip", "a compact design for home workouts",
     "clear exercise guides"),
    ("a lightweight design that packs small", "weather-resistant construction", "quick set-up in minutes",
     "a carry bag included"),
    ("clear rules that are quick to learn", "hours of play for the whole family", "high-quality cards and tokens",
     "a new twist in every game"),
    ("sturdy pieces that survive enthusiastic builders", "step-by-step building instructions",
     "pieces that work with other sets", "hours of creative play"),
    ("dermatologist-tested ingredients", "a lightweight texture that absorbs quickly", "no parabens",
     "visible results within weeks"),
    ("a long-lasting but subtle scent", "carefully balanced notes", "an elegant glass bottle", "a travel-friendly size"),
    ("simple ingredients and no artificial colours", "a resealable pack that keeps it fresh",
     "a satisfying crunch", "a handy snack size"),
    ("responsibly sourced ingredients", "a smooth, rich taste", "no added sugar", "a recyclable pack"),
    ("a streak-free finish in minutes", "a formula safe on paint and trim", "long-lasting protection",
     "a pleasant, mild scent"),
    ("a universal fit for most vehicles", "UV-resistant materials", "easy installation without tools",
     "a two-year warranty"),
    ("a comfortable handle for long jobs", "rust-resistant steel", "a sharp, durable edge", "a lightweight build"),
    ("healthy growth with little care", "a size that suits balconies and small gardens", "a decorative pot",
     "care instructions in the box"),
    ("easy-to-swallow tablets", "clinically studied doses", "no artificial additives", "a three-month supply"),
    ("everything you need in one compact case", "clear instructions for everyday use", "sterile, sealed packs",
     "a size that fits in a glovebox"),
    ("smooth, reliable writing", "acid-free paper that does not bleed", "a durable cover", "a refillable design"),
    ("quick set-up and quiet operation", "low running costs", "sharp, fast prints", "wireless printing from a phone"),
)  # fmt: skip
DESCRIPTION_OPENERS = (" offers ", " is made for everyday use, with ", " brings you ", " stands out for ")
DESCRIPTION_FOLLOWS = ("It also comes with ", "Expect ", "Highlights include ", "You also get ")
DESCRIPTION_CLOSERS = ("Ships from our own warehouse.", "Backed by a 30-day return policy.",
                       "A customer favourite in its category.", "Great as a gift.", "")  # fmt: skip

# Per top category: return reasons that fit what was bought (no "wrong size" for a perfume).
RETURN_REASONS: tuple[tuple[str, ...], ...] = (
    ("defective on arrival", "stopped working", "not compatible with my device", "changed mind", "not as described"),
    ("wrong size", "does not fit", "colour differs from the photos", "changed mind", "poor fabric quality"),
    ("damaged on arrival", "smaller than expected", "does not match my kitchen", "changed mind", "not as described"),
    ("duplicate purchase", "pages misprinted", "changed mind", "wrong edition"),
    ("wrong size", "too heavy", "defective on arrival", "changed mind", "not as described"),
    ("missing pieces", "too difficult for the age group", "changed mind", "damaged box"),
    ("skin reaction", "scent not as expected", "changed mind", "seal was broken"),
    ("past its best-before date", "packaging was open", "ordered by mistake", "did not like the taste"),
    ("does not fit my car", "defective on arrival", "changed mind", "not as described"),
    ("plant arrived wilted", "defective on arrival", "smaller than expected", "changed mind"),
    ("seal was broken", "ordered by mistake", "did not agree with me", "changed mind"),
    ("defective on arrival", "wrong cartridge model", "changed mind", "not as described"),
)  # fmt: skip
LATE_RETURN_REASON = "arrived too late"
# Reasons that say the product itself was faulty: its buyer does not praise it in a review.
FAULT_RETURN_REASONS = (
    "defective on arrival", "stopped working", "not as described", "poor fabric quality", "damaged on arrival",
    "pages misprinted", "missing pieces", "seal was broken", "past its best-before date", "packaging was open",
    "plant arrived wilted",
)  # fmt: skip

# Review titles (1..5 stars; {p}: the product's name) and sentences ({p}: its noun in lower case).
REVIEW_TITLES: tuple[tuple[str, ...], ...] = (
    ("Very disappointed with the {p}", "{p}: broke after a week", "{p} - not worth the money",
     "Would not buy the {p} again", "Save your money", "Poor quality {p}", "Returned the {p}", "Terrible {p}"),
    ("{p}: below expectations", "Could be better", "{p} - not great", "Mediocre {p}", "Expected more from the {p}",
     "Cheaply made {p}", "{p} only just works", "Flimsy {p}"),
    ("{p}: it's okay", "Average {p}", "{p} does the job", "Fair for the price", "{p} - decent but not special",
     "An ordinary {p}", "Middle of the road", "{p}: fine for now"),
    ("Really good {p}", "Happy with the {p}", "{p} - solid purchase", "Works well", "Good value {p}", "Nice {p}",
     "Would recommend the {p}", "Pleasantly surprised by the {p}"),
    ("Absolutely love the {p}", "{p}: excellent quality", "Best {p} I have owned", "{p} exceeded expectations",
     "Perfect {p}", "Five stars", "Outstanding {p}", "{p} - exactly what I wanted"),
)  # fmt: skip
REVIEW_OPENINGS: tuple[tuple[str, ...], ...] = (
    ("The {p} stopped working almost immediately.", "Quality of the {p} is poor; it looks nothing like the photos.",
     "I regret buying this {p}."),
    ("The {p} works, but the finish feels cheap.", "I expected more from this {p}.",
     "The {p} is usable but has obvious flaws."),
    ("The {p} is fine for everyday use, nothing special.", "A decent {p} that does what it says.",
     "This {p} is acceptable for the price."),
    ("Good {p}, well made and easy to use.", "I use the {p} every day and it holds up well.",
     "This {p} is better than the one I had before."),
    ("This {p} is fantastic.", "The {p} is exactly what I needed and more.",
     "I could not be happier with this {p}."),
)  # fmt: skip
REVIEW_DETAILS: tuple[tuple[str, ...], ...] = (
    ("Support was slow to answer.", "It would not even last a month.", "Avoid."),
    ("Would not buy it again at this price.", "Some parts feel flimsy.", "Two stars for trying."),
    ("It is okay for occasional use.", "Nothing to complain about, nothing to rave about.", "Three stars."),
    ("Would recommend it to friends.", "Good value for money.", "Only a small niggle keeps it from five stars."),
    ("Great build quality.", "Worth every penny.", "I have already ordered another as a gift."),
)  # fmt: skip
REVIEW_LATE_NOTE = " Delivery took far longer than promised, though."

# Support tickets: (category, subjects) per order label, and for orders without a problem.
TICKET_CATEGORIES = ("delivery", "payment", "product", "account", "order")
TICKETS_BY_LABEL: dict[str, tuple[int, tuple[str, ...]]] = {
    "payment_delay": (1, ("Payment not going through", "Card declined at checkout", "Payment still pending")),
    "delivery_delay": (0, ("Delivery is late", "Where is my order?", "Tracking has not updated for days")),
    "delivery_failure": (0, ("Delivery failed", "Parcel returned to sender", "Courier could not deliver my order")),
    "cancellation": (4, ("Refund for my cancelled order", "Why was my order cancelled?", "Cancel my order")),
    "stockout": (4, ("Item on backorder", "When will my item ship?", "Order stuck waiting for stock")),
}
TICKETS_WITHOUT_PROBLEM: tuple[tuple[int, tuple[str, ...]], ...] = (
    (2, ("Question about product size", "How do I use this product?", "Is this compatible with my model?")),
    (3, ("Cannot log in", "Update my shipping address", "Delete my account")),
    (4, ("Change my delivery address", "Request an invoice", "Add an item to my order")),
)

NOTIFICATION_TYPES = ("order_update", "promotion", "price_drop", "back_in_stock", "newsletter")
# Marketing messages by type (the order_update group is never sent without an order: ORDER_NOTICES).
NOTIFICATION_TITLES = (
    ("Your order has been confirmed", "Your order is on its way", "Your order has been delivered"),
    ("A new offer just for you", "Members-only savings this week", "Your discount code is waiting"),
    ("A wishlist item is cheaper", "Price drop on something you saved", "Lower price on an item you liked"),
    ("Back in stock", "An item you wanted is available again", "Good news: it is back"),
    ("This week's picks", "New arrivals you may like", "Our latest newsletter"),
)
# Routine updates about an order, by the stage it reached: confirmed, shipped, delivered.
ORDER_STAGE_NOTICES = (
    ("Your order has been confirmed", "Thank you for your order"),
    ("Your order is on its way", "Your parcel has left our warehouse"),
    ("Your order has been delivered", "Your parcel has arrived"),
)
# Notices of an order's problem: (label, what happened, titles). A failed delivery is either
# refunded or sent again, and its notice says which.
ORDER_PROBLEM_NOTICES: tuple[tuple[str, str, tuple[str, str, str]], ...] = (
    ("payment_delay", "payment_failed", (
        "Your payment did not go through", "Action needed: update your payment details",
        "We could not take your payment")),
    ("delivery_delay", "delivery_delayed", (
        "Your delivery is running late", "Delivery delayed: a new estimate for your order",
        "Sorry, your parcel is delayed")),
    ("delivery_failure", "refund_issued", (
        "We could not deliver your order: refund issued", "Refund issued for your undelivered order",
        "Delivery failed: your money is on its way back")),
    ("delivery_failure", "reshipped", (
        "We have sent your order again", "A replacement parcel is on its way",
        "Your order was re-sent after a failed delivery")),
    ("cancellation", "order_cancelled", (
        "Your order has been cancelled", "Cancellation confirmed for your order", "We have cancelled your order")),
    ("stockout", "backorder", (
        "An item in your order is on backorder", "Your order is waiting for stock",
        "Out of stock: your order will ship later")),
)  # fmt: skip
