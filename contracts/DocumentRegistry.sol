// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IDocumentRegistry} from "./IDocumentRegistry.sol";
import {ITrustRegistry} from "./ITrustRegistry.sol";
import {MerkleProof} from "./MerkleProof.sol";

/// @title Trust Anchor — document registry
/// @notice See {IDocumentRegistry}.
contract DocumentRegistry is IDocumentRegistry {
    /// @notice Domain tag of leaf v2 (docs/bundle.md), after the RFC 9162 leaf prefix 0x00.
    bytes20 public constant LEAF_DOMAIN = "TrustAnchor/leaf/v2\x00";

    address public immutable trustRegistry;

    // Keyed by keccak256(issuer, root): a root copied from the mempool by another account is its own batch.
    mapping(bytes32 => Batch) private _batches;
    mapping(address => IssuerAuth) private _issuers;
    mapping(bytes32 => BatchRevocation) private _batchRevocations;
    // Revocation and supersession belong to one issuer's batch: keyed by (issuer, root, leaf).
    mapping(bytes32 => Record) private _documents;
    mapping(bytes32 => Successor) private _successors;
    // Use belongs to the document itself, whatever batch names it: keyed by the leaf alone (unique by its
    // 128-bit salt), so a copy of a root anchored by another account gives no second use.
    mapping(bytes32 => Usage) private _usage;

    struct Record {
        uint40 revokedAt;
        uint8 revokeReason;
        uint40 supersededAt;
    }

    struct Usage {
        uint40 consumedAt;
        bytes8 consumedBy;
        uint64 endorsed;
    }

    struct Successor {
        address issuer;
        bytes32 root;
        bytes32 leaf;
    }

    /// @param trustRegistry_ the TrustRegistry, deployed right after this contract (its address is known
    ///        in advance from the deployer's nonce), so both bindings are immutable and need no owner.
    constructor(address trustRegistry_) {
        if (trustRegistry_ == address(0)) revert InvalidRoot();
        trustRegistry = trustRegistry_;
    }

    // ------------------------------------------------------------------ anchoring

    function anchor(bytes32 root, uint8 docType, uint32 size) external {
        IssuerAuth memory auth = _issuers[msg.sender];
        _anchor(auth, root, docType, size);
    }

    function anchorMany(bytes32[] calldata roots, uint8[] calldata docTypes, uint32[] calldata sizes) external {
        if (roots.length != docTypes.length || roots.length != sizes.length) {
            revert LengthMismatch(roots.length, docTypes.length, sizes.length);
        }
        IssuerAuth memory auth = _issuers[msg.sender];
        for (uint256 i = 0; i < roots.length; ++i) {
            _anchor(auth, roots[i], docTypes[i], sizes[i]);
        }
    }

    // ------------------------------------------------------------------ lifecycle

    function revokeBatch(address issuer_, bytes32 root, uint8 reason) external {
        bytes32 bk = _batchKey(issuer_, root);
        (, bytes8 party) = _lifecycleCaller(issuer_, root);
        BatchRevocation storage r = _batchRevocations[bk];
        if (r.revokedAt != 0) revert BatchAlreadyRevoked(root, r.revokedAt);
        _batchRevocations[bk] = BatchRevocation(uint40(block.timestamp), reason);
        emit BatchRevocationRecorded(root, issuer_, party, reason, msg.sender);
    }

    function revokeDocument(Proof calldata document_, uint8 reason) external {
        (Batch memory b, bytes8 party) = _lifecycleCaller(document_.issuer, document_.root);
        _checkInclusion(document_, b.size);
        Record storage s = _documents[_key(document_)];
        if (s.revokedAt != 0) revert DocumentAlreadyRevoked(document_.root, document_.leaf, s.revokedAt);
        s.revokedAt = uint40(block.timestamp);
        s.revokeReason = reason;
        emit DocumentRevoked(document_.root, document_.leaf, party, document_.issuer, reason, msg.sender);
    }

    function supersede(Proof calldata document_, Proof calldata successor) external {
        (Batch memory b, bytes8 party) = _lifecycleCaller(document_.issuer, document_.root);
        (Batch memory nb, bytes8 successorParty) = _lifecycleCaller(successor.issuer, successor.root);
        if (successorParty != party) revert NotIssuingParty(successor.root, party, successorParty);
        // An amendment replaces a document of the same kind: a permit is not superseded by an invoice.
        if (b.docType != nb.docType) revert DocumentTypeMismatch(b.docType, nb.docType);
        bytes32 key = _key(document_);
        bytes32 successorKey = _key(successor);
        if (key == successorKey) revert SupersedeBySelf(document_.root, document_.leaf);
        _checkInclusion(document_, b.size);
        _checkInclusion(successor, nb.size);
        _requireUsable(document_, key);
        _requireUsable(successor, successorKey);
        _documents[key].supersededAt = uint40(block.timestamp);
        _successors[key] = Successor(successor.issuer, successor.root, successor.leaf);
        emit DocumentSuperseded(
            document_.root,
            document_.leaf,
            party,
            document_.issuer,
            successor.issuer,
            successor.root,
            successor.leaf,
            msg.sender
        );
    }

    function consume(Proof calldata document_, Terms calldata terms) external {
        _use(document_, terms, 0);
    }

    function endorse(Proof calldata document_, Terms calldata terms, uint64 amount) external {
        if (amount == 0) revert ZeroAmount();
        _use(document_, terms, amount);
    }

    function syncIssuer(address account, bytes8 party, uint64 docTypes, bool active) external {
        if (msg.sender != trustRegistry) revert NotTrustRegistry(msg.sender);
        _issuers[account] = IssuerAuth(party, docTypes, active);
        emit IssuerSynced(account, party, docTypes, active);
    }

    // ------------------------------------------------------------------ views

    function batch(address issuer_, bytes32 root) external view returns (Batch memory) {
        return _batches[_batchKey(issuer_, root)];
    }

    function issuerAuth(address account) external view returns (IssuerAuth memory) {
        return _issuers[account];
    }

    function document(address issuer_, bytes32 root, bytes32 leaf) external view returns (DocumentView memory v) {
        bytes32 bk = _batchKey(issuer_, root);
        bytes32 key = keccak256(abi.encode(bk, leaf));
        v.batch = _batches[bk];
        v.party = _issuers[v.batch.issuer].party;
        v.batchRevocation = _batchRevocations[bk];
        Record storage r = _documents[key];
        Usage storage u = _usage[leaf];
        v.state = DocumentState(r.revokedAt, r.revokeReason, r.supersededAt, u.consumedAt, u.consumedBy, u.endorsed);
        Successor storage n = _successors[key];
        v.successorIssuer = n.issuer;
        v.successorRoot = n.root;
        v.successorLeaf = n.leaf;
    }

    function documentStateAt(address issuer_, bytes32 root, bytes32 leaf, uint40 time)
        external
        view
        returns (bool revoked, bool superseded, bool consumed)
    {
        bytes32 bk = _batchKey(issuer_, root);
        Record storage s = _documents[keccak256(abi.encode(bk, leaf))];
        uint40 batchRevokedAt = _batchRevocations[bk].revokedAt;
        revoked = (s.revokedAt != 0 && s.revokedAt <= time) || (batchRevokedAt != 0 && batchRevokedAt <= time);
        superseded = s.supersededAt != 0 && s.supersededAt <= time;
        uint40 consumedAt = _usage[leaf].consumedAt;
        consumed = consumedAt != 0 && consumedAt <= time;
    }

    function verifyInclusion(bytes32 root, bytes32 leaf, uint256 index, uint256 size, bytes32[] calldata path)
        external
        pure
        returns (bool)
    {
        return MerkleProof.verify(root, leaf, index, size, path);
    }

    function leafOf(Terms calldata terms, uint8 docType) public pure returns (bytes32) {
        return sha256(
            abi.encodePacked(
                bytes1(0x00),
                LEAF_DOMAIN,
                terms.commitment,
                docType,
                terms.destination,
                terms.validFrom,
                terms.validUntil,
                terms.quantity,
                terms.unit
            )
        );
    }

    // ------------------------------------------------------------------ internals

    function _anchor(IssuerAuth memory auth, bytes32 root, uint8 docType, uint32 size) private {
        if (!auth.active) revert IssuerNotActive(msg.sender);
        if (docType > 63 || auth.docTypes & (uint64(1) << docType) == 0) {
            revert DocumentTypeNotAllowed(msg.sender, docType);
        }
        if (root == bytes32(0)) revert InvalidRoot();
        if (size == 0) revert InvalidBatchSize(size);
        Batch storage b = _batches[_batchKey(msg.sender, root)];
        if (b.issuer != address(0)) revert RootAlreadyAnchored(root, b.issuer, b.anchoredAt);
        b.issuer = msg.sender;
        b.anchoredAt = uint40(block.timestamp);
        b.docType = docType;
        b.size = size;
        emit Anchored(root, msg.sender, docType, size);
    }

    /// @dev The consumer of the document's destination uses it, within the terms its leaf commits to.
    function _use(Proof calldata d, Terms calldata t, uint64 amount) private {
        bytes8 consumer = _checkUse(d, t);
        _requireUsable(d, _key(d));
        Usage storage s = _usage[d.leaf];
        if (t.quantity == 0) {
            if (amount != 0) revert NoQuantity(d.root, d.leaf);
        } else {
            uint64 remaining = t.quantity - s.endorsed;
            uint64 used = amount == 0 ? remaining : amount;
            if (used > remaining) revert QuantityExceeded(used, remaining);
            s.endorsed += used;
            _emitEndorsed(d, consumer, used, s.endorsed, t.quantity);
            if (s.endorsed < t.quantity) return;
        }
        s.consumedAt = uint40(block.timestamp);
        s.consumedBy = consumer;
        emit DocumentConsumed(d.root, d.leaf, consumer, d.issuer, msg.sender);
    }

    function _emitEndorsed(Proof calldata d, bytes8 consumer, uint64 used, uint64 endorsed, uint64 quantity) private {
        emit DocumentEndorsed(d.root, d.leaf, consumer, d.issuer, msg.sender, used, endorsed, quantity);
    }

    /// @return consumer the caller's party, which is the document's destination.
    function _checkUse(Proof calldata d, Terms calldata t) private view returns (bytes8 consumer) {
        Batch memory b = _existing(d.issuer, d.root);
        if (t.destination == bytes8(0)) revert NoDestination(d.root, d.leaf);
        ITrustRegistry trust = ITrustRegistry(trustRegistry);
        consumer = trust.consumerParty(msg.sender);
        if (consumer == bytes8(0) || consumer != t.destination) revert NotDestinationConsumer(msg.sender, t.destination);
        // A party's removal drops its consumer accounts, so a consumer's party is a member.
        if (trust.oneTimeDocTypes() & (uint64(1) << b.docType) == 0) revert NotOneTime(b.docType);
        if (leafOf(t, b.docType) != d.leaf) revert TermsMismatch(d.root, d.leaf);
        _checkInclusion(d, b.size);
        uint40 nowTime = uint40(block.timestamp);
        if (nowTime < t.validFrom) revert NotYetValid(t.validFrom, nowTime);
        if (t.validUntil != 0 && nowTime > t.validUntil) revert DocumentExpired(t.validUntil, nowTime);
        if (!trust.recognizesIssuerAt(consumer, b.issuer, b.docType, nowTime)) {
            revert NotRecognized(consumer, b.issuer, b.docType);
        }
        // A document anchored after a (possibly backdated) revocation of its issuer or CA is invalid.
        if (!trust.anchoringValidAt(b.issuer, b.anchoredAt)) revert AnchoringNotValid(d.root, b.issuer, b.anchoredAt);
    }

    function _existing(address issuer_, bytes32 root) private view returns (Batch memory b) {
        b = _batches[_batchKey(issuer_, root)];
        if (b.issuer == address(0)) revert UnknownBatch(issuer_, root);
    }

    /// @dev An issuer account acts only on what it anchored itself (while active: a revoked, e.g. leaked,
    ///      key must not); an admin of the issuing party acts on all of the party's batches.
    function _lifecycleCaller(address issuer_, bytes32 root) private view returns (Batch memory b, bytes8 party) {
        b = _existing(issuer_, root);
        party = _issuers[issuer_].party;
        IssuerAuth memory auth = _issuers[msg.sender];
        if (auth.active) {
            if (msg.sender != issuer_) {
                if (auth.party != party) revert NotIssuingParty(root, auth.party, party);
                revert NotBatchIssuer(root, msg.sender, issuer_);
            }
            return (b, party);
        }
        bytes8 caller = ITrustRegistry(trustRegistry).adminParty(msg.sender);
        if (caller == bytes8(0)) revert NotAuthorizedForParty(msg.sender);
        if (caller != party) revert NotIssuingParty(root, caller, party);
    }

    function _checkInclusion(Proof calldata p, uint32 size) private pure {
        if (!MerkleProof.verify(p.root, p.leaf, p.index, size, p.path)) {
            revert InvalidInclusionProof(p.root, p.leaf, p.index);
        }
    }

    function _requireUsable(Proof calldata p, bytes32 key) private view {
        uint40 batchRevokedAt = _batchRevocations[_batchKey(p.issuer, p.root)].revokedAt;
        if (batchRevokedAt != 0) revert BatchRevoked(p.root, batchRevokedAt);
        Record storage s = _documents[key];
        if (s.revokedAt != 0) revert DocumentAlreadyRevoked(p.root, p.leaf, s.revokedAt);
        if (s.supersededAt != 0) {
            Successor storage n = _successors[key];
            revert DocumentAlreadySuperseded(p.root, p.leaf, n.root, n.leaf);
        }
        Usage storage u = _usage[p.leaf];
        if (u.consumedAt != 0) revert DocumentAlreadyConsumed(p.root, p.leaf, u.consumedBy, u.consumedAt);
    }

    function _batchKey(address issuer_, bytes32 root) private pure returns (bytes32) {
        return keccak256(abi.encode(issuer_, root));
    }

    function _key(Proof calldata p) private pure returns (bytes32) {
        return keccak256(abi.encode(_batchKey(p.issuer, p.root), p.leaf));
    }
}
