// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Trust Anchor — document registry
/// @notice What was issued and what happened to it since. Issuing agencies anchor Merkle roots of batches
///         of signed documents (RFC 9162 trees of salted leaves; no document content ever goes on chain).
///         Documents are addressed by (batch root, leaf hash) and proven members of their batch by an
///         RFC 9162 inclusion proof checked on chain, so nobody can act on a leaf of someone else's batch.
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

    struct BatchRevocation {
        uint40 revokedAt;
        uint8 reason;
    }

    struct DocumentState {
        uint40 revokedAt;
        uint8 revokeReason;
        uint40 supersededAt;
        uint40 consumedAt;
        bytes8 consumedBy;
    }

    /// @notice Everything a verifier needs about one document, in one call.
    struct DocumentView {
        Batch batch;
        bytes8 party;
        BatchRevocation batchRevocation;
        DocumentState state;
        bytes32 successorRoot;
        bytes32 successorLeaf;
    }

    struct Proof {
        bytes32 root;
        bytes32 leaf;
        uint256 index;
        bytes32[] path;
    }

    // ---- errors ----
    error NotTrustRegistry(address caller);
    error InvalidRoot();
    error InvalidBatchSize(uint32 size);
    error LengthMismatch(uint256 roots, uint256 docTypes, uint256 sizes);
    error IssuerNotActive(address account);
    error DocumentTypeNotAllowed(address account, uint8 docType);
    error RootAlreadyAnchored(bytes32 root, address issuer, uint40 anchoredAt);
    error UnknownBatch(bytes32 root);
    error NotIssuingParty(bytes32 root, bytes8 caller, bytes8 issuingParty);
    error NotAuthorizedForParty(address account);
    error InvalidInclusionProof(bytes32 root, bytes32 leaf, uint256 index);
    error BatchAlreadyRevoked(bytes32 root, uint40 revokedAt);
    error BatchRevoked(bytes32 root, uint40 revokedAt);
    error DocumentAlreadyRevoked(bytes32 root, bytes32 leaf, uint40 revokedAt);
    error DocumentAlreadySuperseded(bytes32 root, bytes32 leaf, bytes32 successorRoot, bytes32 successorLeaf);
    error DocumentAlreadyConsumed(bytes32 root, bytes32 leaf, bytes8 consumedBy, uint40 consumedAt);
    error SupersedeBySelf(bytes32 root, bytes32 leaf);
    error DocumentTypeMismatch(uint8 docType, uint8 successorDocType);
    error NotRecognized(bytes8 party, address issuer, uint8 docType);
    error AnchoringNotValid(bytes32 root, address issuer, uint40 anchoredAt);

    // ---- events ----
    /// @dev The issuing party is not repeated here: an issuer account belongs to one party forever
    ///      (IssuerAuthorized), and leaving it out keeps anchoring under 50,000 gas.
    event Anchored(bytes32 indexed root, address indexed issuer, uint8 docType, uint32 size);
    event BatchRevocationRecorded(bytes32 indexed root, bytes8 indexed party, uint8 reason);
    event DocumentRevoked(bytes32 indexed root, bytes32 indexed leaf, bytes8 indexed party, uint8 reason);
    event DocumentSuperseded(
        bytes32 indexed root, bytes32 indexed leaf, bytes8 indexed party, bytes32 successorRoot, bytes32 successorLeaf
    );
    event DocumentConsumed(bytes32 indexed root, bytes32 indexed leaf, bytes8 indexed consumer, address account);
    event IssuerSynced(address indexed account, bytes8 indexed party, uint64 docTypes, bool active);

    /// @notice Anchor one batch root. Only an active issuer account, only for its document types.
    function anchor(bytes32 root, uint8 docType, uint32 size) external;
    /// @notice Anchor several batch roots in one transaction.
    function anchorMany(bytes32[] calldata roots, uint8[] calldata docTypes, uint32[] calldata sizes) external;
    /// @notice The issuing party (an admin or one of its issuer accounts) revokes a whole batch.
    function revokeBatch(bytes32 root, uint8 reason) external;
    /// @notice The issuing party revokes one document of one of its batches.
    function revokeDocument(Proof calldata document, uint8 reason) external;
    /// @notice The issuing party replaces a document by its amended successor (old -> new link).
    function supersede(Proof calldata document, Proof calldata successor) external;
    /// @notice A receiving party that recognizes the issuer for the document type uses a one-time document
    ///         (e.g. a CITES permit at import). A second consumption reverts: this stops permit re-use.
    function consume(Proof calldata document) external;
    /// @notice Called by the trust registry whenever an issuer account's authorization changes.
    function syncIssuer(address account, bytes8 party, uint64 docTypes, bool active) external;

    // ---- views ----
    function trustRegistry() external view returns (address);
    function batch(bytes32 root) external view returns (Batch memory);
    function issuerAuth(address account) external view returns (IssuerAuth memory);
    function document(bytes32 root, bytes32 leaf) external view returns (DocumentView memory);
    /// @notice Whether the document was revoked (itself or its batch), superseded or consumed at `time`.
    function documentStateAt(bytes32 root, bytes32 leaf, uint40 time)
        external
        view
        returns (bool revoked, bool superseded, bool consumed);
    function verifyInclusion(bytes32 root, bytes32 leaf, uint256 index, uint256 size, bytes32[] calldata path)
        external
        pure
        returns (bool);
}
