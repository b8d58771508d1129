"""The order-editing part of the simulator's Admin GraphQL schema (2026-10), as SDL that
extends ``sandbox.shopify.schema``: orderEditBegin / SetQuantity / AddVariant / Commit, the
CalculatedOrder they stage, and the order's timeline (``Order.events``) where a committed
edit is shown. Names are Shopify's; only the fields the simulator can answer are declared.
"""

from __future__ import annotations

SDL = """
scalar JSON
scalar FormattedString

enum EventSubjectType {
  ARTICLE BLOG COLLECTION COMMENT COMPANY COMPANY_LOCATION DISCOUNT DRAFT_ORDER ORDER PAGE
  PRICE_RULE PRODUCT PRODUCT_VARIANT UNKNOWN
}

interface Event {
  id: ID! action: String! appTitle: String attributeToApp: Boolean! attributeToUser: Boolean!
  createdAt: DateTime! criticalAlert: Boolean! message: FormattedString!
}
type BasicEvent implements Event {
  id: ID! action: String! appTitle: String attributeToApp: Boolean! attributeToUser: Boolean!
  createdAt: DateTime! criticalAlert: Boolean! message: FormattedString!
  additionalContent: JSON hasAdditionalContent: Boolean! secondaryMessage: FormattedString
  subjectId: ID! subjectType: EventSubjectType!
}
type EventEdge { cursor: String! node: Event! }
type EventConnection { nodes: [Event!]! edges: [EventEdge!]! pageInfo: PageInfo! }

extend type Order {
  merchantEditable: Boolean!
  events(first: Int, after: String, query: String): EventConnection!
}

type OrderEditSession { id: ID! }
type CalculatedLineItem {
  id: ID! quantity: Int! sku: String title: String! variantTitle: String variant: ProductVariant
  originalUnitPriceSet: MoneyBag! editableQuantity: Int! editableQuantityBeforeChanges: Int!
  restockable: Boolean! restocking: Boolean!
}
type CalculatedLineItemEdge { cursor: String! node: CalculatedLineItem! }
type CalculatedLineItemConnection {
  nodes: [CalculatedLineItem!]! edges: [CalculatedLineItemEdge!]! pageInfo: PageInfo!
}
type CalculatedOrder {
  id: ID!
  originalOrder: Order!
  lineItems(first: Int, after: String): CalculatedLineItemConnection!
  addedLineItems(first: Int, after: String): CalculatedLineItemConnection!
  subtotalLineItemsQuantity: Int!
  subtotalPriceSet: MoneyBag
  totalPriceSet: MoneyBag!
}

type OrderEditBeginPayload {
  calculatedOrder: CalculatedOrder orderEditSession: OrderEditSession userErrors: [UserError!]!
}
type OrderEditSetQuantityPayload {
  calculatedLineItem: CalculatedLineItem calculatedOrder: CalculatedOrder
  orderEditSession: OrderEditSession userErrors: [UserError!]!
}
type OrderEditAddVariantPayload {
  calculatedLineItem: CalculatedLineItem calculatedOrder: CalculatedOrder
  orderEditSession: OrderEditSession userErrors: [UserError!]!
}
type OrderEditCommitPayload {
  order: Order successMessages: [String!] userErrors: [UserError!]!
}

extend type Mutation {
  orderEditBegin(id: ID!): OrderEditBeginPayload
  orderEditSetQuantity(id: ID!, lineItemId: ID!, quantity: Int!, restock: Boolean,
    locationId: ID @deprecated(reason: "No longer supported.")): OrderEditSetQuantityPayload
  orderEditAddVariant(id: ID!, variantId: ID!, locationId: ID, quantity: Int!,
    allowDuplicates: Boolean = false): OrderEditAddVariantPayload
  orderEditCommit(id: ID!, notifyCustomer: Boolean, staffNote: String): OrderEditCommitPayload
}
"""
