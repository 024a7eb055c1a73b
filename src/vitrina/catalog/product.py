"""The catalog's product model: generic e-commerce fields plus the fashion schema."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Availability = Literal["in_stock", "out_of_stock", "preorder", "unknown"]


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # --- identity and offer ---
    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1)
    brand: str | None = None
    description: str = ""
    price: float | None = Field(default=None, gt=0)  # the price the shopper pays; some feeds have none
    currency: str = Field(default="USD", min_length=3, max_length=3)
    original_price: float | None = Field(default=None, gt=0)  # before a discount
    category_path: list[str] = Field(default_factory=list)  # broad to narrow
    product_type: str | None = None  # the leaf of the taxonomy: "Jeans", "Sports Shoes"
    images: list[str] = Field(default_factory=list)
    url: str | None = None
    availability: Availability = "unknown"
    sizes: list[str] = Field(default_factory=list)
    available_sizes: list[str] = Field(default_factory=list)
    rating: float | None = Field(default=None, ge=0, le=5)
    review_count: int | None = Field(default=None, ge=0)
    attributes: dict[str, str] = Field(default_factory=dict)  # anything else the feed carries

    # --- fashion ---
    colors: list[str] = Field(default_factory=list)
    primary_color: str | None = None
    pattern: str | None = None
    materials: list[str] = Field(default_factory=list)
    fit: str | None = None
    length: str | None = None
    sleeve: str | None = None
    style_tags: list[str] = Field(default_factory=list)
    occasions: list[str] = Field(default_factory=list)
    seasons: list[str] = Field(default_factory=list)
    formality: str | None = None  # casual, smart_casual, business_casual, formal
    gender: str | None = None  # men, women, unisex, boys, girls
    age_group: str | None = None  # adult, teen, kids, baby
    warmth: int | None = Field(default=None, ge=1, le=5)
    features: list[str] = Field(default_factory=list)
    search_keywords: list[str] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return value.upper()

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title is blank")
        return value.strip()

    @property
    def category(self) -> str | None:
        return self.product_type or (self.category_path[-1] if self.category_path else None)

    @property
    def discount_percent(self) -> float | None:
        if self.price is not None and self.original_price and self.original_price > self.price:
            return round(100 * (1 - self.price / self.original_price), 1)
        return None
