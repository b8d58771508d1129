"""The subset of the Shopify Admin GraphQL schema (2026-10) the simulator answers, as SDL.

Type, field, argument and enum names are Shopify's, so a document written against the real
API validates here or fails the same way (an unknown field is a validation error). Only what
the OMS contract uses is declared; money amounts and currency codes are custom scalars rather
than Shopify's Decimal/CurrencyCode enum, which accept the same JSON values. Order editing
and the order timeline are declared in ``sandbox.shopify.schema_edits``, as extensions.
"""

from __future__ import annotations

from graphql import GraphQLSchema, build_schema

from sandbox.shopify import schema_edits

SDL = """
scalar DateTime
scalar Decimal
scalar URL
scalar CurrencyCode
scalar UnsignedInt64

type Query {
  order(id: ID!): Order
  orders(first: Int, after: String, query: String): OrderConnection!
  fulfillmentOrder(id: ID!): FulfillmentOrder
  fulfillmentOrders(first: Int, after: String, query: String,
    includeClosed: Boolean = false): FulfillmentOrderConnection!
  returnableFulfillments(orderId: ID!, first: Int, after: String):
    ReturnableFulfillmentConnection!
  return(id: ID!): Return
  returnReasonDefinitions(first: Int, after: String, handles: [String!], ids: [ID!]):
    ReturnReasonDefinitionConnection!
  productVariants(first: Int, after: String, query: String): ProductVariantConnection!
  locations(first: Int, after: String, query: String, includeInactive: Boolean = false):
    LocationConnection!
  location(id: ID): Location
  job(id: ID!): Job
  webhookSubscriptions(first: Int, after: String, topics: [WebhookSubscriptionTopic!],
    format: WebhookSubscriptionFormat, uri: String, callbackUrl: URL):
    WebhookSubscriptionConnection!
  webhookSubscription(id: ID!): WebhookSubscription
}

type Mutation {
  orderCreate(order: OrderCreateOrderInput!, options: OrderCreateOptionsInput):
    OrderCreatePayload
  orderCancel(orderId: ID!, reason: OrderCancelReason!, refund: Boolean,
    refundMethod: OrderCancelRefundMethodInput, restock: Boolean!,
    notifyCustomer: Boolean = false, staffNote: String): OrderCancelPayload
  fulfillmentOrderMove(id: ID!, newLocationId: ID!,
    fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]): FulfillmentOrderMovePayload
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  fulfillmentOrderCancel(id: ID!): FulfillmentOrderCancelPayload
  fulfillmentOrderHold(id: ID!, fulfillmentHold: FulfillmentOrderHoldInput!):
    FulfillmentOrderHoldPayload
  fulfillmentOrderReleaseHold(id: ID!, holdIds: [ID!], externalId: String):
    FulfillmentOrderReleaseHoldPayload
  returnRequest(input: ReturnRequestInput!): ReturnRequestPayload
  returnApproveRequest(input: ReturnApproveRequestInput!): ReturnApproveRequestPayload
  returnDeclineRequest(input: ReturnDeclineRequestInput!): ReturnDeclineRequestPayload
  returnCreate(returnInput: ReturnInput!): ReturnCreatePayload
  returnClose(id: ID!): ReturnClosePayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!,
    webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
  webhookSubscriptionUpdate(id: ID!, webhookSubscription: WebhookSubscriptionInput!):
    WebhookSubscriptionUpdatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

enum FulfillmentOrderStatus { OPEN IN_PROGRESS SCHEDULED ON_HOLD INCOMPLETE CLOSED CANCELLED }
enum FulfillmentOrderRequestStatus {
  UNSUBMITTED SUBMITTED ACCEPTED REJECTED CANCELLATION_REQUESTED CANCELLATION_ACCEPTED
  CANCELLATION_REJECTED CLOSED
}
enum FulfillmentOrderAction {
  CANCEL_FULFILLMENT_ORDER CREATE_FULFILLMENT EXTERNAL HOLD MARK_AS_OPEN MERGE MOVE
  RELEASE_HOLD REQUEST_CANCELLATION REQUEST_FULFILLMENT SPLIT
}
enum FulfillmentHoldReason {
  AWAITING_PAYMENT AWAITING_RETURN_ITEMS HIGH_RISK_OF_FRAUD INCORRECT_ADDRESS
  INVENTORY_OUT_OF_STOCK ONLINE_STORE_POST_PURCHASE_CROSS_SELL OTHER UNKNOWN_DELIVERY_DATE
}
enum FulfillmentStatus { SUCCESS CANCELLED ERROR FAILURE OPEN PENDING }
enum FulfillmentDisplayStatus {
  ATTEMPTED_DELIVERY CANCELED CONFIRMED DELIVERED FAILURE FULFILLED IN_TRANSIT
  LABEL_PRINTED LABEL_PURCHASED MARKED_AS_FULFILLED NOT_DELIVERED OUT_FOR_DELIVERY
  PICKED_UP READY_FOR_PICKUP SUBMITTED
}
enum OrderDisplayFulfillmentStatus {
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT REQUEST_DECLINED
  RESTOCKED SCHEDULED UNFULFILLED
}
enum OrderDisplayFinancialStatus {
  AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
}
enum OrderReturnStatus {
  NO_RETURN RETURN_REQUESTED IN_PROGRESS INSPECTION_COMPLETE RETURNED RETURN_FAILED
}
enum ReturnStatus { REQUESTED OPEN CLOSED DECLINED CANCELED }
enum ReturnDeclineReason { FINAL_SALE RETURN_PERIOD_ENDED OTHER }
enum ReturnReason {
  COLOR DEFECTIVE NOT_AS_DESCRIBED OTHER SIZE_TOO_LARGE SIZE_TOO_SMALL STYLE UNKNOWN UNWANTED
  WRONG_ITEM
}
enum ReverseFulfillmentOrderStatus { OPEN CLOSED CANCELED }
enum DeliveryMethodType { SHIPPING PICK_UP NONE RETAIL LOCAL PICKUP_POINT }
enum OrderCreateInputsInventoryBehavior {
  BYPASS DECREMENT_IGNORING_POLICY DECREMENT_OBEYING_POLICY
}
enum OrderTransactionKind {
  SALE AUTHORIZATION CAPTURE REFUND VOID CHANGE SUGGESTED_REFUND EMV_AUTHORIZATION
}
enum OrderTransactionStatus { SUCCESS FAILURE PENDING ERROR AWAITING_RESPONSE UNKNOWN }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum OrderCancelUserErrorCode {
  INTERNAL_ERROR INVALID NO_REFUND_PERMISSION NO_REFUND_TO_STORE_CREDIT_PERMISSION NOT_FOUND
  STORE_CREDIT_REFUND_B2B_NOT_SUPPORTED STORE_CREDIT_REFUND_EXPIRATION_IN_PAST
  STORE_CREDIT_REFUND_MISSING_CUSTOMER
}

type Job { id: ID! done: Boolean! }
type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }

type Location { id: ID! name: String! isActive: Boolean! fulfillsOnlineOrders: Boolean! }
type LocationEdge { cursor: String! node: Location! }
type LocationConnection { nodes: [Location!]! edges: [LocationEdge!]! pageInfo: PageInfo! }

type Product { id: ID! title: String! }
type ProductVariant {
  id: ID! sku: String title: String! displayName: String! price: Decimal! product: Product!
}
type ProductVariantEdge { cursor: String! node: ProductVariant! }
type ProductVariantConnection {
  nodes: [ProductVariant!]! edges: [ProductVariantEdge!]! pageInfo: PageInfo!
}

type MailingAddress {
  firstName: String lastName: String name: String address1: String address2: String
  city: String zip: String countryCodeV2: String province: String phone: String
}
type Customer { id: ID! displayName: String! email: String firstName: String lastName: String }

type Order {
  id: ID!
  name: String!
  sourceIdentifier: String
  sourceName: String
  email: String
  note: String
  tags: [String!]!
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  closed: Boolean!
  currencyCode: CurrencyCode!
  customer: Customer
  shippingAddress: MailingAddress
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  returnStatus: OrderReturnStatus!
  totalPriceSet: MoneyBag!
  lineItems(first: Int, after: String): LineItemConnection!
  fulfillmentOrders(first: Int, after: String, query: String, displayable: Boolean):
    FulfillmentOrderConnection!
  fulfillments(first: Int): [Fulfillment!]!
  returns(first: Int, after: String, query: String): ReturnConnection!
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { nodes: [Order!]! edges: [OrderEdge!]! pageInfo: PageInfo! }

type LineItem {
  id: ID! sku: String name: String! title: String! quantity: Int! currentQuantity: Int!
  unfulfilledQuantity: Int! variant: ProductVariant originalUnitPriceSet: MoneyBag!
}
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { nodes: [LineItem!]! edges: [LineItemEdge!]! pageInfo: PageInfo! }

type FulfillmentOrderAssignedLocation { name: String! location: Location }
type FulfillmentOrderDestination {
  firstName: String lastName: String address1: String address2: String city: String
  zip: String countryCode: String email: String phone: String
}
type DeliveryMethod { methodType: DeliveryMethodType! }
type FulfillmentOrderSupportedAction { action: FulfillmentOrderAction! externalUrl: URL }
type FulfillmentHold {
  id: ID! reason: FulfillmentHoldReason! reasonNotes: String handle: String
  heldByRequestingApp: Boolean!
}
type FulfillmentOrder {
  id: ID!
  status: FulfillmentOrderStatus!
  requestStatus: FulfillmentOrderRequestStatus!
  fulfillAt: DateTime
  fulfillBy: DateTime
  createdAt: DateTime!
  updatedAt: DateTime!
  orderId: ID!
  orderName: String!
  order: Order!
  assignedLocation: FulfillmentOrderAssignedLocation!
  destination: FulfillmentOrderDestination
  deliveryMethod: DeliveryMethod
  supportedActions: [FulfillmentOrderSupportedAction!]!
  fulfillmentHolds: [FulfillmentHold!]!
  lineItems(first: Int, after: String): FulfillmentOrderLineItemConnection!
  fulfillments(first: Int, after: String): FulfillmentConnection!
}
type FulfillmentOrderEdge { cursor: String! node: FulfillmentOrder! }
type FulfillmentOrderConnection {
  nodes: [FulfillmentOrder!]! edges: [FulfillmentOrderEdge!]! pageInfo: PageInfo!
}
type FulfillmentOrderLineItem {
  id: ID! sku: String totalQuantity: Int! remainingQuantity: Int! lineItem: LineItem!
  variant: ProductVariant productTitle: String!
}
type FulfillmentOrderLineItemEdge { cursor: String! node: FulfillmentOrderLineItem! }
type FulfillmentOrderLineItemConnection {
  nodes: [FulfillmentOrderLineItem!]! edges: [FulfillmentOrderLineItemEdge!]!
  pageInfo: PageInfo!
}

type FulfillmentTrackingInfo { company: String number: String url: URL }
type Fulfillment {
  id: ID! name: String! status: FulfillmentStatus! displayStatus: FulfillmentDisplayStatus
  createdAt: DateTime! updatedAt: DateTime! totalQuantity: Int! order: Order!
  location: Location trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  fulfillmentLineItems(first: Int, after: String): FulfillmentLineItemConnection!
}
type FulfillmentEdge { cursor: String! node: Fulfillment! }
type FulfillmentConnection {
  nodes: [Fulfillment!]! edges: [FulfillmentEdge!]! pageInfo: PageInfo!
}
type FulfillmentLineItem { id: ID! quantity: Int! lineItem: LineItem! }
type FulfillmentLineItemEdge { cursor: String! node: FulfillmentLineItem! }
type FulfillmentLineItemConnection {
  nodes: [FulfillmentLineItem!]! edges: [FulfillmentLineItemEdge!]! pageInfo: PageInfo!
}

type ReturnableFulfillment {
  id: ID! fulfillment: Fulfillment!
  returnableFulfillmentLineItems(first: Int, after: String):
    ReturnableFulfillmentLineItemConnection!
}
type ReturnableFulfillmentEdge { cursor: String! node: ReturnableFulfillment! }
type ReturnableFulfillmentConnection {
  nodes: [ReturnableFulfillment!]! edges: [ReturnableFulfillmentEdge!]! pageInfo: PageInfo!
}
type ReturnableFulfillmentLineItem { quantity: Int! fulfillmentLineItem: FulfillmentLineItem! }
type ReturnableFulfillmentLineItemEdge { cursor: String! node: ReturnableFulfillmentLineItem! }
type ReturnableFulfillmentLineItemConnection {
  nodes: [ReturnableFulfillmentLineItem!]! edges: [ReturnableFulfillmentLineItemEdge!]!
  pageInfo: PageInfo!
}

type ReturnReasonDefinition { id: ID! handle: String! name: String! deleted: Boolean! }
type ReturnReasonDefinitionEdge { cursor: String! node: ReturnReasonDefinition! }
type ReturnReasonDefinitionConnection {
  nodes: [ReturnReasonDefinition!]! edges: [ReturnReasonDefinitionEdge!]! pageInfo: PageInfo!
}
type ReturnDecline { reason: ReturnDeclineReason! note: String }
interface ReturnLineItemType {
  id: ID! quantity: Int! customerNote: String returnReasonNote: String!
  returnReasonDefinition: ReturnReasonDefinition returnReason: ReturnReason!
}
type ReturnLineItem implements ReturnLineItemType {
  id: ID! quantity: Int! customerNote: String returnReasonNote: String!
  returnReasonDefinition: ReturnReasonDefinition returnReason: ReturnReason!
  fulfillmentLineItem: FulfillmentLineItem!
}
type ReturnLineItemTypeEdge { cursor: String! node: ReturnLineItemType! }
type ReturnLineItemTypeConnection {
  nodes: [ReturnLineItemType!]! edges: [ReturnLineItemTypeEdge!]! pageInfo: PageInfo!
}
type ReverseFulfillmentOrder { id: ID! status: ReverseFulfillmentOrderStatus! }
type ReverseFulfillmentOrderEdge { cursor: String! node: ReverseFulfillmentOrder! }
type ReverseFulfillmentOrderConnection {
  nodes: [ReverseFulfillmentOrder!]! edges: [ReverseFulfillmentOrderEdge!]! pageInfo: PageInfo!
}
type Return {
  id: ID! name: String! status: ReturnStatus! totalQuantity: Int! order: Order!
  createdAt: DateTime! requestApprovedAt: DateTime closedAt: DateTime decline: ReturnDecline
  returnLineItems(first: Int, after: String): ReturnLineItemTypeConnection!
  reverseFulfillmentOrders(first: Int, after: String): ReverseFulfillmentOrderConnection!
}
type ReturnEdge { cursor: String! node: Return! }
type ReturnConnection { nodes: [Return!]! edges: [ReturnEdge!]! pageInfo: PageInfo! }

# Webhook subscriptions (the topics are those of WebhookSubscriptionTopic the OMS contract
# uses, plus a few a merchant commonly adds; the real enum has many more).
enum WebhookSubscriptionTopic {
  ORDERS_CREATE ORDERS_UPDATED ORDERS_CANCELLED ORDERS_FULFILLED ORDERS_PARTIALLY_FULFILLED
  ORDERS_EDITED ORDERS_PAID ORDERS_DELETE FULFILLMENTS_CREATE FULFILLMENTS_UPDATE
  FULFILLMENT_ORDERS_PLACED_ON_HOLD FULFILLMENT_ORDERS_HOLD_RELEASED FULFILLMENT_ORDERS_MOVED
  FULFILLMENT_ORDERS_CANCELLED FULFILLMENT_ORDERS_SPLIT
  FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_ACCEPTED
  RETURNS_REQUEST RETURNS_APPROVE RETURNS_DECLINE RETURNS_CLOSE RETURNS_CANCEL
  INVENTORY_LEVELS_UPDATE PRODUCTS_UPDATE APP_UNINSTALLED
}
enum WebhookSubscriptionFormat { JSON XML }
type ApiVersion { handle: String! displayName: String! supported: Boolean! }
type WebhookSubscription {
  id: ID! legacyResourceId: UnsignedInt64! topic: WebhookSubscriptionTopic! uri: String!
  callbackUrl: URL! @deprecated(reason: "Use `uri` instead.")
  format: WebhookSubscriptionFormat! includeFields: [String!]! metafieldNamespaces: [String!]!
  filter: String name: String apiVersion: ApiVersion! createdAt: DateTime! updatedAt: DateTime!
}
type WebhookSubscriptionEdge { cursor: String! node: WebhookSubscription! }
type WebhookSubscriptionConnection {
  nodes: [WebhookSubscription!]! edges: [WebhookSubscriptionEdge!]! pageInfo: PageInfo!
}

# --- inputs -------------------------------------------------------------------------------

input MoneyInput { amount: Decimal! currencyCode: CurrencyCode! }
input MoneyBagInput { shopMoney: MoneyInput! presentmentMoney: MoneyInput }
input MailingAddressInput {
  firstName: String lastName: String address1: String address2: String city: String
  zip: String countryCode: String province: String provinceCode: String company: String
  phone: String
}
input CustomerUpsertInput { email: String firstName: String lastName: String phone: String }
input OrderCreateCustomerInput { toUpsert: CustomerUpsertInput }
input OrderCreateLineItemInput {
  variantId: ID quantity: Int! priceSet: MoneyBagInput title: String sku: String
  requiresShipping: Boolean
}
input OrderCreateShippingLineInput {
  title: String! code: String source: String priceSet: MoneyBagInput!
}
input OrderCreateOrderTransactionInput {
  kind: OrderTransactionKind status: OrderTransactionStatus gateway: String
  amountSet: MoneyBagInput! test: Boolean
}
input OrderCreateOrderInput {
  currency: CurrencyCode email: String phone: String sourceIdentifier: String
  sourceName: String sourceUrl: URL tags: [String!] note: String name: String
  poNumber: String processedAt: DateTime test: Boolean
  customer: OrderCreateCustomerInput
  shippingAddress: MailingAddressInput billingAddress: MailingAddressInput
  lineItems: [OrderCreateLineItemInput!] shippingLines: [OrderCreateShippingLineInput!]
  transactions: [OrderCreateOrderTransactionInput!]
}
input OrderCreateOptionsInput {
  inventoryBehaviour: OrderCreateInputsInventoryBehavior sendReceipt: Boolean
  sendFulfillmentReceipt: Boolean
}
input OrderCancelStoreCreditRefundInput { expiresAt: DateTime }
input OrderCancelRefundMethodInput {
  originalPaymentMethodsRefund: Boolean storeCreditRefund: OrderCancelStoreCreditRefundInput
}
input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
input FulfillmentOrderLineItemsInput {
  fulfillmentOrderId: ID! fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}
input FulfillmentTrackingInput {
  company: String number: String url: URL numbers: [String!] urls: [URL!]
}
input FulfillmentOriginAddressInput {
  address1: String address2: String city: String zip: String provinceCode: String
  countryCode: String!
}
input FulfillmentInput {
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!
  trackingInfo: FulfillmentTrackingInput notifyCustomer: Boolean
  originAddress: FulfillmentOriginAddressInput
}
input FulfillmentOrderHoldInput {
  reason: FulfillmentHoldReason! reasonNotes: String notifyMerchant: Boolean handle: String
  externalId: String fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}
input RestockingFeeInput { percentage: Float! }
input ReturnRequestLineItemInput {
  fulfillmentLineItemId: ID! quantity: Int! returnReasonDefinitionId: ID
  returnReason: ReturnReason customerNote: String restockingFee: RestockingFeeInput
}
input ReturnRequestInput { orderId: ID! returnLineItems: [ReturnRequestLineItemInput!]! }
input ReturnApproveRequestInput { id: ID! notifyCustomer: Boolean }
input ReturnDeclineRequestInput {
  id: ID! declineReason: ReturnDeclineReason! declineNote: String notifyCustomer: Boolean
}
input ReturnLineItemInput {
  fulfillmentLineItemId: ID! quantity: Int! returnReasonDefinitionId: ID
  returnReason: ReturnReason returnReasonNote: String restockingFee: RestockingFeeInput
}
input ReturnInput {
  orderId: ID! returnLineItems: [ReturnLineItemInput!]! requestedAt: DateTime
  notifyCustomer: Boolean
}

input WebhookSubscriptionInput {
  uri: String callbackUrl: URL format: WebhookSubscriptionFormat includeFields: [String!]
  metafieldNamespaces: [String!] filter: String
}

# --- payloads -----------------------------------------------------------------------------

type UserError { field: [String!] message: String! }
type OrderCreateUserError { field: [String!] message: String! code: String }
type OrderCancelUserError { field: [String!] message: String! code: OrderCancelUserErrorCode }
type FulfillmentOrderHoldUserError { field: [String!] message: String! code: String }
type FulfillmentOrderReleaseHoldUserError { field: [String!] message: String! code: String }
type ReturnUserError { field: [String!] message: String! code: String }

type OrderCreatePayload { order: Order userErrors: [OrderCreateUserError!]! }
type OrderCancelPayload {
  job: Job orderCancelUserErrors: [OrderCancelUserError!]! userErrors: [UserError!]!
}
type FulfillmentOrderMovePayload {
  movedFulfillmentOrder: FulfillmentOrder originalFulfillmentOrder: FulfillmentOrder
  remainingFulfillmentOrder: FulfillmentOrder userErrors: [UserError!]!
}
type FulfillmentCreatePayload { fulfillment: Fulfillment userErrors: [UserError!]! }
type FulfillmentOrderCancelPayload {
  fulfillmentOrder: FulfillmentOrder replacementFulfillmentOrder: FulfillmentOrder
  userErrors: [UserError!]!
}
type FulfillmentOrderHoldPayload {
  fulfillmentOrder: FulfillmentOrder fulfillmentHold: FulfillmentHold
  remainingFulfillmentOrder: FulfillmentOrder userErrors: [FulfillmentOrderHoldUserError!]!
}
type FulfillmentOrderReleaseHoldPayload {
  fulfillmentOrder: FulfillmentOrder userErrors: [FulfillmentOrderReleaseHoldUserError!]!
}
type ReturnRequestPayload { return: Return userErrors: [ReturnUserError!]! }
type ReturnApproveRequestPayload { return: Return userErrors: [ReturnUserError!]! }
type ReturnDeclineRequestPayload { return: Return userErrors: [ReturnUserError!]! }
type ReturnCreatePayload { return: Return userErrors: [ReturnUserError!]! }
type ReturnClosePayload { return: Return userErrors: [ReturnUserError!]! }
type WebhookSubscriptionCreatePayload {
  webhookSubscription: WebhookSubscription userErrors: [UserError!]!
}
type WebhookSubscriptionUpdatePayload {
  webhookSubscription: WebhookSubscription userErrors: [UserError!]!
}
type WebhookSubscriptionDeletePayload { deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }
"""


def build() -> GraphQLSchema:
    return build_schema(SDL + schema_edits.SDL)
