"""Word lists the demo plant's names and descriptions are made from."""

from __future__ import annotations

SITES = (
    ("Plant Hamburg", "Europe/Berlin"),
    ("Plant Lyon", "Europe/Paris"),
    ("Plant Brno", "Europe/Prague"),
    ("Plant Porto", "Europe/Lisbon"),
    ("Plant Tampere", "Europe/Helsinki"),
    ("Plant Monterrey", "America/Monterrey"),
    ("Plant Pune", "Asia/Kolkata"),
    ("Plant Dalian", "Asia/Shanghai"),
    ("Plant Katowice", "Europe/Warsaw"),
    ("Plant Gothenburg", "Europe/Stockholm"),
)

SERIES = (
    "Atlas", "Vega", "Nova", "Orion", "Titan", "Polar", "Helix", "Summit", "Falcon", "Delta",
    "Quantum", "Aurora", "Apex", "Zenith", "Boreal", "Cobalt",
)
PRODUCTS = (
    "Centrifugal Pump", "Gear Motor", "Hydraulic Valve Block", "Screw Compressor",
    "Conveyor Drive", "Control Cabinet", "Plate Heat Exchanger", "Industrial Fan", "Mixer Unit",
    "Packaging Head", "Vacuum Pump", "Dosing Station", "Filter Skid", "Cooling Unit",
    "Lifting Table", "Spindle Drive",
)

ASSEMBLIES = (
    "Motor Housing", "Impeller", "Wiring Harness", "Gearbox", "Drive Shaft", "Control Board",
    "Frame Weldment", "Valve Manifold", "Cover", "Bearing Unit", "Pump Casing",
    "Fan Wheel", "Terminal Box", "Brake Module", "Sensor Bracket", "Cooling Jacket",
    "Coupling", "Piston Set", "Rotor", "Stator", "Hose Set", "Door Module", "Base Plate",
    "Panel Door", "Filter Housing", "Seal Pack", "Gear Stage", "Cable Chain",
)
ASSEMBLY_KINDS = ("Assembly", "Sub-Assembly", "Module", "Kit", "Unit")
VARIANTS = ("Size 1", "Size 2", "Size 3", "Type K", "Type M", "Left", "Right", "Front", "Rear",
            "Standard", "Heavy Duty", "Stainless", "Compact", "ATEX", "Marine")

#: purchased parts: a template filled with a size
PARTS = (
    ("Hex Bolt M{0}x{1}", (6, 8, 10, 12, 16), (20, 25, 30, 40, 50, 60)),
    ("Socket Screw M{0}x{1}", (4, 5, 6, 8), (10, 12, 16, 20, 25)),
    ("Washer M{0} DIN 125", (4, 5, 6, 8, 10, 12, 16), (0,)),
    ("Hex Nut M{0} ISO 4032", (4, 5, 6, 8, 10, 12, 16), (0,)),
    ("Ball Bearing 62{0:02d}-2RS", (2, 3, 4, 5, 6, 8, 10), (0,)),
    ("O-Ring {0}x{1} NBR", (12, 18, 25, 32, 40, 52, 63), (2, 3)),
    ("Proximity Sensor M{0}", (8, 12, 18, 30), (0,)),
    ("Relay {0}VDC {1}A", (12, 24, 48), (5, 10, 16)),
    ("Cable Gland M{0}", (12, 16, 20, 25, 32), (0,)),
    ("Compression Spring {0}x{1}", (6, 8, 10, 12, 16), (20, 30, 40, 60)),
    ("Gasket DN{0}", (15, 25, 32, 40, 50, 65, 80, 100), (0,)),
    ("Capacitor {0}uF {1}V", (10, 22, 47, 100, 220), (25, 50, 400)),
    ("Circlip DIN 471 {0}", (10, 12, 15, 20, 25, 30, 35), (0,)),
    ("Hose Clamp {0}mm W{1}", (16, 22, 27, 32, 40, 50), (9, 12)),
    ("Connector {0}-pin", (2, 3, 4, 6, 8, 12), (0,)),
    ("AC Motor {0}.{1}kW", (0, 1, 2, 4, 7), (25, 37, 55, 75)),
    ("Fuse {0}A", (2, 4, 6, 10, 16, 20), (0,)),
    ("Dowel Pin {0}x{1}", (3, 4, 5, 6, 8), (10, 16, 20, 30)),
    ("Shaft Seal {0}x{1}x7", (20, 25, 30, 35, 40), (35, 40, 47, 52)),
    ("Pressure Gauge 0-{0} bar", (6, 10, 16, 25, 40), (0,)),
    ("Solenoid Valve G{0}/{1}", (1, 3), (4, 8)),
    ("PCB Controller Rev {0}", (1, 2, 3, 4), (0,)),
    ("Toggle Latch {0}N", (500, 900, 1500, 2500), (0,)),
    ("Timing Belt {0}T5/{1}", (10, 16, 25), (400, 600, 800, 1000)),
)

#: raw materials per stock unit
MATERIALS = {
    "KG": (
        "Steel Sheet S235 {0}mm", "Stainless Sheet 1.4301 {0}mm", "Aluminium Bar 6082 D{1}",
        "Brass Rod CuZn39 D{1}", "PA6 Granulate", "POM Granulate", "Copper Busbar {1}x5",
        "Cast Iron Blank GJL-250", "Steel Round C45 D{1}", "Powder Coating RAL {2}",
    ),
    "M": (
        "Steel Tube {1}x2", "Rubber Profile {1}x5", "Cable H07RN-F 3G{0}", "Aluminium Profile {1}x{1}",
        "PVC Hose {1}mm", "Control Cable LiYY 7x{0}", "Hydraulic Hose DN{1}", "Flat Bar {1}x8",
    ),
    "L": (
        "Hydraulic Oil HLP46", "Primer Grey RAL 7035", "Epoxy Resin 2K", "Coolant Concentrate",
        "Thread Locker Medium", "Gear Oil CLP220", "Cleaning Solvent", "Paint RAL {2}",
    ),
}
THICKNESSES = ("0.8", "1", "1.5", "2", "3", "4", "5", "6")
DIAMETERS = (10, 12, 16, 20, 25, 30, 40, 50, 60)
RAL = (1003, 3000, 5010, 5015, 6005, 7016, 7035, 9005, 9010)

SUPPLIER_FIRST = (
    "Baltic", "Nordic", "Alpine", "Rhein", "Danube", "Atlantic", "Iberian", "Silesian",
    "Bohemian", "Lombard", "Pacific", "Delta", "Meridian", "Northstar", "Eastgate", "Westfield",
    "Hanseatic", "Carpathian", "Adriatic", "Flanders",
)
SUPPLIER_TRADE = (
    "Fasteners", "Bearings", "Castings", "Electronics", "Precision Parts", "Steel", "Plastics",
    "Hydraulics", "Seals", "Motors", "Wire & Cable", "Metalworks", "Coatings", "Components",
    "Springs", "Sensors",
)
SUPPLIER_FORM = ("GmbH", "AB", "s.r.o.", "S.A.", "Ltd", "Oy", "B.V.", "Inc.", "S.p.A.", "Sp. z o.o.")
CURRENCIES = ("EUR", "EUR", "EUR", "EUR", "USD", "GBP", "SEK", "CZK", "CNY")

FIRST_NAMES = (
    "Anna", "Jonas", "Maria", "Lukas", "Sofia", "Elias", "Lea", "Noah", "Emma", "Felix", "Clara",
    "Jan", "Marta", "Pierre", "Ines", "Tomas", "Eva", "Mikko", "Ana", "Rahul", "Wei", "Carmen",
)
LAST_NAMES = (
    "Berg", "Keller", "Novak", "Dubois", "Silva", "Virtanen", "Koch", "Weber", "Horak", "Moreau",
    "Costa", "Laine", "Fischer", "Svoboda", "Garcia", "Patel", "Zhang", "Lind", "Meyer", "Rossi",
)

CUSTOMERS = (
    "Aqua Municipal Works", "Brauhaus Nord", "Cerealia Foods", "Dairy Alliance", "EcoPaper Mills",
    "Fjord Fisheries", "Granite Mining", "Helios Solar", "Iberia Bottling", "Jura Chemicals",
    "Krone Logistics", "Lumen Pharma", "Marine Dock Services", "Nordwind Energy",
    "Oceanic Shipyards", "Pannonia Sugar", "Quarz Glass", "Riviera Hotels", "Stahlwerk Ost",
    "Tundra Cold Stores", "Unity Hospitals", "Vinea Wineries", "Westport Water", "Zenit Textiles",
)

ECO_REASONS = (
    "cost reduction", "supplier change", "design fix after field failure", "component obsolescence",
    "weight reduction", "new safety standard", "simplified assembly", "material substitution",
)
