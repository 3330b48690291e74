#!/usr/bin/env python3
"""Generate synthetic Cloud Store products for benchmarks.

Usage:
    python seed/generate.py --count N [--out PATH] [--seed S]

Writes a JSON array of N products in the same shape as seed/products.json
(product_id, name, description, price, category, image_url, stock,
created_at). Stdlib only, deterministic for a given --seed, and fast
(50,000 products in about a second, JSON output included).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from datetime import datetime, timedelta

CATEGORIES = ("compute", "storage", "database", "networking")

# fmt: off
# Images reuse the hand-drawn SVGs of the real seed products, by category.
IMAGES = {
    "compute": ("ec2-t3-medium", "lambda", "lightsail", "cloudwatch", "fargate"),
    "storage": ("s3-standard", "ebs-gp3", "glacier", "efs", "backup"),
    "database": ("rds-postgresql", "dynamodb", "elasticache", "aurora"),
    "networking": ("vpc", "cloudfront", "elb", "route53"),
}

BRANDS = (
    "Nimbus", "Stratus", "Cirrus", "Awan", "Langit", "Nusantara", "Garuda",
    "Borneo", "Merapi", "Rinjani", "Komodo", "Bromo", "Toba", "Halimun",
    "Equator", "Archipelago", "Monsoon", "Sakura", "Zenith", "Orbit",
)

# Service nouns per category: real-ish cloud words so text search for e.g.
# "instance", "backup", "global" or "cluster" matches a sizeable subset.
SERVICES = {
    "compute": (
        "Compute Instance", "Serverless Functions", "Container Service",
        "GPU Instance", "Virtual Server", "Batch Compute", "Kubernetes Nodes",
        "Monitoring Suite", "Spot Instance", "Edge Functions",
    ),
    "storage": (
        "Object Storage", "Block Volume", "Archive Storage", "File System",
        "Backup Vault", "Snapshot Backup", "Cold Storage", "Data Lake",
        "Global Object Storage", "NAS Share",
    ),
    "database": (
        "PostgreSQL Database", "MySQL Database", "NoSQL Table",
        "Redis Cache", "Database Cluster", "Global Database", "Time Series DB",
        "Graph Database", "Search Cluster", "Data Warehouse",
    ),
    "networking": (
        "Global CDN", "Load Balancer", "DNS Zone", "Private Network",
        "VPN Gateway", "Global Accelerator", "NAT Gateway", "Firewall",
        "API Gateway", "Direct Link",
    ),
}

TIERS = ("Lite", "Basic", "Standard", "Plus", "Pro", "Business", "Enterprise", "Ultra")
SIZES = {
    "compute": ("1 vCPU", "2 vCPU", "4 vCPU", "8 vCPU", "16 vCPU", "t3.small",
                "t3.medium", "m6g.large", "c6i.xlarge", "r6g.2xlarge"),
    "storage": ("100 GB", "250 GB", "500 GB", "1 TB", "2 TB", "5 TB", "10 TB", "50 TB"),
    "database": ("db.t3.micro", "db.t3.medium", "db.m6g.large", "db.r6g.xlarge",
                 "2 Node", "3 Node", "6 Node", "Multi-AZ"),
    "networking": ("1 TB Transfer", "5 TB Transfer", "10 Gbps", "1 Gbps",
                   "1M Queries", "10M Requests", "Multi-Region", "Single Region"),
}
REGIONS = ("Jakarta", "Singapore", "Tokyo", "Sydney", "Mumbai", "Frankfurt")

OPENERS = {
    "compute": (
        "Paket komputasi {tier} untuk menjalankan aplikasi Anda di region {region}.",
        "Kapasitas server {size} yang siap dipakai dalam hitungan menit.",
        "Layanan {service} dengan performa stabil untuk beban kerja produksi.",
    ),
    "storage": (
        "Penyimpanan {size} yang aman dan tahan lama di region {region}.",
        "Paket {service} untuk menyimpan data bisnis Anda dengan biaya hemat.",
        "Solusi penyimpanan {tier} dengan replikasi otomatis antar zona.",
    ),
    "database": (
        "Database terkelola {size} dengan pencadangan otomatis setiap hari.",
        "Paket {service} berlatensi rendah untuk aplikasi modern.",
        "Layanan database {tier} di region {region} tanpa repot mengurus server.",
    ),
    "networking": (
        "Paket jaringan {tier} untuk menghubungkan layanan Anda dengan aman.",
        "Layanan {service} yang mempercepat akses pengguna dari mana saja.",
        "Konektivitas {size} dengan ketersediaan tinggi di region {region}.",
    ),
}
MIDDLES = (
    "Pemantauan dan pembaruan keamanan sudah ditangani sepenuhnya.",
    "Kapasitas dapat dinaikkan atau diturunkan kapan saja sesuai kebutuhan.",
    "Cocok untuk startup, UMKM, maupun perusahaan skala besar.",
    "Dilengkapi dashboard sederhana dan notifikasi lewat email.",
    "Ketersediaan layanan dijamin hingga 99,9 persen per bulan.",
    "Data dienkripsi saat disimpan maupun saat dikirim.",
)
CLOSERS = (
    "Tagihan dihitung bulanan dalam rupiah.",
    "Dukungan teknis tersedia 24 jam dalam Bahasa Indonesia.",
    "Sudah termasuk pencadangan harian dan pemulihan cepat.",
    "Bisa diaktifkan langsung setelah pembayaran dikonfirmasi.",
    "",
)

# fmt: on

PRICE_MIN, PRICE_MAX = 10_000, 50_000_000
# Naive datetimes that are understood as UTC (rendered with a trailing "Z").
START = datetime(2024, 1, 1)
END = datetime(2026, 10, 31, 23, 59, 59)


def generate(count: int, seed: int = 0) -> list[dict]:
    """Return `count` synthetic products; same seed -> same output."""
    rng = random.Random(seed)
    rnd = rng.random  # indexing with rnd() is much faster than rng.choice()
    span = int((END - START).total_seconds())
    step = max(1, span // max(count, 1))
    # Distinct timestamps (one per slot of `step` seconds), shuffled so that
    # creation order is not the same as id order.
    slots = list(range(count))
    rng.shuffle(slots)
    log_lo = math.log(PRICE_MIN)
    log_span = math.log(PRICE_MAX) - log_lo
    exp = math.exp
    # Per-category lookup tables, built once.
    tables = [
        (
            cat,
            SERVICES[cat],
            SIZES[cat],
            OPENERS[cat],
            [f"/static/img/products/{slug}.svg" for slug in IMAGES[cat]],
        )
        for cat in CATEGORIES
    ]
    closers = [" " + c if c else "" for c in CLOSERS]
    n_brands, n_tiers, n_regions = len(BRANDS), len(TIERS), len(REGIONS)
    n_middles, n_closers = len(MIDDLES), len(closers)
    products = []
    append = products.append
    for i in range(count):
        cat, services, sizes, openers, images = tables[i % 4]
        service = services[int(rnd() * len(services))]
        tier = TIERS[int(rnd() * n_tiers)]
        size = sizes[int(rnd() * len(sizes))]
        region = REGIONS[int(rnd() * n_regions)]
        opener = openers[int(rnd() * len(openers))].format(
            tier=tier, size=size, service=service, region=region
        )
        desc = f"{opener} {MIDDLES[int(rnd() * n_middles)]}{closers[int(rnd() * n_closers)]}"
        # Log-uniform price rounded to 500 rupiah, clamped to the range.
        price = int(round(exp(log_lo + log_span * rnd()) / 500.0)) * 500
        price = min(PRICE_MAX, max(PRICE_MIN, price))
        ts = START + timedelta(seconds=slots[i] * step + int(rnd() * step))
        append(
            {
                "product_id": f"GEN-{i + 1:06d}",
                "name": f"{BRANDS[int(rnd() * n_brands)]} {service} {tier} {size}",
                "description": desc,
                "price": price,
                "category": cat,
                "image_url": images[int(rnd() * len(images))],
                "stock": 0 if rnd() < 0.05 else 1 + int(rnd() * 500),
                "created_at": ts.isoformat() + "Z",
            }
        )
    return products


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Generate synthetic Cloud Store products (JSON array)."
    )
    ap.add_argument("--count", type=int, required=True, help="number of products")
    ap.add_argument("--out", default="-", help="output file (default: stdout)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = ap.parse_args(argv)
    if args.count < 0:
        ap.error("--count must be >= 0")
    products = generate(args.count, args.seed)
    payload = (json.dumps(products, ensure_ascii=False) + "\n").encode("utf-8")
    if args.out == "-":
        try:
            sys.stdout.buffer.write(payload)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into `head`
            sys.stderr.close()
            return 0
    else:
        with open(args.out, "wb") as f:
            f.write(payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
