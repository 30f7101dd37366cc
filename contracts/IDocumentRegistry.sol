// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Trust Anchor — document registry
/// @notice What was issued and what happened to it since. Issuing agencies anchor Merkle roots of batches
///         of signed documents (RFC 9162 trees of salted leaves; no document content ever goes on chain).
///         A batch is addressed by (issuer account, root): another account anchoring the same root makes a
///         batch of its own and can neither block nor take over the rightful one. Documents are addressed
///         by (issuer, root, leaf) and proven members of their batch by an RFC 9162 inclusion proof checked
///         on chain. Each leaf commits to the document's terms (destination, validity, quantity), which the
///         registry enforces when a one-time document is consumed or endorsed.
interface IDocumentRegistry {
    /// @notice One anchored batch; packed into a single storage slot.
    struct Batch {
        address issuer;
        uint40 anchoredAt;
        uint8 docType;
        uint32 size;
    }

    /// @notice The issuing agency accounts' authorization, mirrored here by the trust registry so that
    ///         anchoring costs one storage read instead of a cross-contract call.
    struct IssuerAuth {
        bytes8 party;
        uint64 docTypes;
        bool active;
    }

    /// @notice A whole batch's revocation.
    struct BatchRevocation {
        uint40 revokedAt;
        uint8 reason;
    }

    /// @notice One document's lifecycle; `endorsed` is the quantity used so far (partial use).
    struct DocumentState {
        uint40 revokedAt;
        uint8 revokeReason;
        uint40 supersededAt;
        uint40 consumedAt;
        bytes8 consumedBy;
        uint64 endorsed;
    }

    /// @notice Everything a verifier needs about one document, in one call.
    struct DocumentView {
        Batch batch;
        bytes8 party;
        BatchRevocation batchRevocation;
        DocumentState state;
        address successorIssuer;
        bytes32 successorRoot;
        bytes32 successorLeaf;
    }

    /// @notice A document: its batch (issuer account, root), its leaf and the leaf's inclusion proof.
    struct Proof {
        address issuer;
        bytes32 root;
        bytes32 leaf;
        uint256 index;
        bytes32[] path;
    }

    /// @notice The opening of a leaf (docs/bundle.md, leaf v2): only bundle holders know `commitment`
    ///         (SHA-256 over a domain tag, the document's salt and digest), so only they can consume.
    ///         Zero means open for `destination` (any party), `validFrom`, `validUntil` and `quantity`.
    struct Terms {
        bytes32 commitment;
        bytes8 destination;
        uint40 validFrom;
        uint40 validUntil;
        uint64 quantity;
        bytes8 unit;
    }

    // ---- errors ----
    /// @notice Only the bound TrustRegistry may call this.
    error NotTrustRegistry(address caller);
    /// @notice A root (or the bound registry address) may not be zero.
    error InvalidRoot();
    /// @notice A batch holds at least one document.
    error InvalidBatchSize(uint32 size);
    /// @notice anchorMany's arrays differ in length.
    error LengthMismatch(uint256 roots, uint256 docTypes, uint256 sizes);
    /// @notice `account` is not an active issuer account.
    error IssuerNotActive(address account);
    /// @notice `account` may not anchor `docType`.
    error DocumentTypeNotAllowed(address account, uint8 docType);
    /// @notice `issuer` anchored `root` already, at `anchoredAt`.
    error RootAlreadyAnchored(bytes32 root, address issuer, uint40 anchoredAt);
    /// @notice `issuer` never anchored `root`.
    error UnknownBatch(address issuer, bytes32 root);
    /// @notice `caller` (of party `callerParty`) may not act on a batch of `issuingParty`.
    error NotIssuingParty(bytes32 root, bytes8 callerParty, bytes8 issuingParty);
    /// @notice An issuer account acts only on the batches it anchored itself; party-wide acts are an
    ///         admin's.
    error NotBatchIssuer(bytes32 root, address caller, address issuer);
    /// @notice `account` holds no role that allows this.
    error NotAuthorizedForParty(address account);
    /// @notice The inclusion proof of `leaf` at `index` does not lead to `root`.
    error InvalidInclusionProof(bytes32 root, bytes32 leaf, uint256 index);
    /// @notice The batch was revoked already.
    error BatchAlreadyRevoked(bytes32 root, uint40 revokedAt);
    /// @notice The batch is revoked.
    error BatchRevoked(bytes32 root, uint40 revokedAt);
    /// @notice The document is revoked.
    error DocumentAlreadyRevoked(bytes32 root, bytes32 leaf, uint40 revokedAt);
    /// @notice The document was superseded by the named successor.
    error DocumentAlreadySuperseded(bytes32 root, bytes32 leaf, bytes32 successorRoot, bytes32 successorLeaf);
    /// @notice The document was used up by `consumedBy` at `consumedAt`.
    error DocumentAlreadyConsumed(bytes32 root, bytes32 leaf, bytes8 consumedBy, uint40 consumedAt);
    /// @notice A document cannot supersede itself.
    error SupersedeBySelf(bytes32 root, bytes32 leaf);
    /// @notice A successor must be of the same document type.
    error DocumentTypeMismatch(uint8 docType, uint8 successorDocType);
    /// @notice `party` does not recognize `issuer`'s CA for `docType` now.
    error NotRecognized(bytes8 party, address issuer, uint8 docType);
    /// @notice The anchoring was not valid by the registry's rules (e.g. a backdated revocation covers it).
    error AnchoringNotValid(bytes32 root, address issuer, uint40 anchoredAt);
    /// @notice `docType` is not one of the consortium's one-time types: it cannot be consumed.
    error NotOneTime(uint8 docType);
    /// @notice The terms given do not open the leaf (wrong commitment or terms).
    error TermsMismatch(bytes32 root, bytes32 leaf);
    /// @notice A document with no destination cannot be consumed by anyone.
    error NoDestination(bytes32 root, bytes32 leaf);
    /// @notice `account` is not a consumer account of the document's destination `destination`.
    error NotDestinationConsumer(address account, bytes8 destination);
    /// @notice The document is valid only from `validFrom`.
    error NotYetValid(uint40 validFrom, uint40 nowTime);
    /// @notice The document expired at `validUntil`.
    error DocumentExpired(uint40 validUntil, uint40 nowTime);
    /// @notice An endorsement names a quantity of zero.
    error ZeroAmount();
    /// @notice The document commits to no quantity: consume it whole instead of endorsing.
    error NoQuantity(bytes32 root, bytes32 leaf);
    /// @notice More than the `remaining` quantity was endorsed.
    error QuantityExceeded(uint64 requested, uint64 remaining);

    // ---- events ----
    /// @notice `issuer` anchored batch `root` of `size` documents of `docType`.
    /// @dev The issuing party is not repeated here: an issuer account belongs to one party forever
    ///      (IssuerAuthorized), and leaving it out keeps anchoring under 50,000 gas.
    event Anchored(bytes32 indexed root, address indexed issuer, uint8 docType, uint32 size);
    /// @notice `account` revoked `issuer`'s whole batch `root` of `party`.
    event BatchRevocationRecorded(
        bytes32 indexed root, address indexed issuer, bytes8 indexed party, uint8 reason, address account
    );
    /// @notice `account` revoked one document of `issuer`'s batch `root`.
    event DocumentRevoked(
        bytes32 indexed root, bytes32 indexed leaf, bytes8 indexed party, address issuer, uint8 reason, address account
    );
    /// @notice `account` replaced a document by its amended successor (old -> new link).
    event DocumentSuperseded(
        bytes32 indexed root,
        bytes32 indexed leaf,
        bytes8 indexed party,
        address issuer,
        address successorIssuer,
        bytes32 successorRoot,
        bytes32 successorLeaf,
        address account
    );
    /// @notice `consumer`'s account `account` used up the document.
    event DocumentConsumed(
        bytes32 indexed root, bytes32 indexed leaf, bytes8 indexed consumer, address issuer, address account
    );
    /// @notice `consumer` endorsed `amount` of the document's quantity; `endorsed` of `quantity` used so far.
    event DocumentEndorsed(
        bytes32 indexed root,
        bytes32 indexed leaf,
        bytes8 indexed consumer,
        address issuer,
        address account,
        uint64 amount,
        uint64 endorsed,
        uint64 quantity
    );
    /// @notice The trust registry mirrored issuer `account`'s authorization.
    event IssuerSynced(address indexed account, bytes8 indexed party, uint64 docTypes, bool active);

    /// @notice Anchor one batch root. Only an active issuer account, only for its document types.
    function anchor(bytes32 root, uint8 docType, uint32 size) external;
    /// @notice Anchor several batch roots in one transaction.
    function anchorMany(bytes32[] calldata roots, uint8[] calldata docTypes, uint32[] calldata sizes) external;
    /// @notice Revoke a whole batch: the issuer account that anchored it, or an admin of its party.
    function revokeBatch(address issuer, bytes32 root, uint8 reason) external;
    /// @notice Revoke one document: the issuer account that anchored it, or an admin of its party.
    function revokeDocument(Proof calldata document, uint8 reason) external;
    /// @notice Replace a document by its amended successor of the same type and party: an issuer account
    ///         for two documents it anchored itself, or an admin of their party.
    function supersede(Proof calldata document, Proof calldata successor) external;
    /// @notice Use up a one-time document (e.g. a CITES permit at import): only a consumer account of the
    ///         document's destination, with the leaf's opening, within its validity period, while the
    ///         destination recognizes the issuer. A second use reverts: this stops permit re-use. A document
    ///         with a quantity is endorsed for all that remains.
    function consume(Proof calldata document, Terms calldata terms) external;
    /// @notice Endorse `amount` of a one-time document's committed quantity (one partial shipment), under
    ///         the same rules as consume; the document is used up when its quantity is reached.
    function endorse(Proof calldata document, Terms calldata terms, uint64 amount) external;
    /// @notice Called by the trust registry whenever an issuer account's authorization changes.
    function syncIssuer(address account, bytes8 party, uint64 docTypes, bool active) external;

    // ---- views ----
    /// @notice The TrustRegistry bound to this registry for good.
    function trustRegistry() external view returns (address);
    /// @notice `issuer`'s batch `root` (zero if none).
    function batch(address issuer, bytes32 root) external view returns (Batch memory);
    /// @notice The mirrored authorization of issuer `account`.
    function issuerAuth(address account) external view returns (IssuerAuth memory);
    /// @notice One document's batch, party and state.
    function document(address issuer, bytes32 root, bytes32 leaf) external view returns (DocumentView memory);
    /// @notice Whether the document was revoked (itself or its batch), superseded or consumed at `time`.
    function documentStateAt(address issuer, bytes32 root, bytes32 leaf, uint40 time)
        external
        view
        returns (bool revoked, bool superseded, bool consumed);
    /// @notice Is the RFC 9162 proof valid?
    function verifyInclusion(bytes32 root, bytes32 leaf, uint256 index, uint256 size, bytes32[] calldata path)
        external
        pure
        returns (bool);
    /// @notice The leaf (v2) that `terms` open for a document of `docType`.
    function leafOf(Terms calldata terms, uint8 docType) external pure returns (bytes32);
}
