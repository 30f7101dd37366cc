// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IDocumentRegistry} from "./IDocumentRegistry.sol";
import {ITrustRegistry} from "./ITrustRegistry.sol";
import {MerkleProof} from "./MerkleProof.sol";

/// @title Trust Anchor — document registry
/// @notice See {IDocumentRegistry}.
contract DocumentRegistry is IDocumentRegistry {
    address public immutable trustRegistry;

    mapping(bytes32 => Batch) private _batches;
    mapping(address => IssuerAuth) private _issuers;
    mapping(bytes32 => BatchRevocation) private _batchRevocations;
    mapping(bytes32 => DocumentState) private _documents;
    mapping(bytes32 => bytes32[2]) private _successors;

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

    function revokeBatch(bytes32 root, uint8 reason) external {
        (, bytes8 party) = _issuingPartyOnly(root);
        BatchRevocation storage r = _batchRevocations[root];
        if (r.revokedAt != 0) revert BatchAlreadyRevoked(root, r.revokedAt);
        _batchRevocations[root] = BatchRevocation(uint40(block.timestamp), reason);
        emit BatchRevocationRecorded(root, party, reason);
    }

    function revokeDocument(Proof calldata document_, uint8 reason) external {
        (, bytes8 party) = _issuingPartyOnly(document_.root);
        _checkInclusion(document_);
        DocumentState storage s = _documents[_key(document_.root, document_.leaf)];
        if (s.revokedAt != 0) revert DocumentAlreadyRevoked(document_.root, document_.leaf, s.revokedAt);
        s.revokedAt = uint40(block.timestamp);
        s.revokeReason = reason;
        emit DocumentRevoked(document_.root, document_.leaf, party, reason);
    }

    function supersede(Proof calldata document_, Proof calldata successor) external {
        (Batch memory b, bytes8 party) = _issuingPartyOnly(document_.root);
        (Batch memory nb,) = _issuingPartyOnly(successor.root);
        // An amendment replaces a document of the same kind: a permit is not superseded by an invoice.
        if (b.docType != nb.docType) revert DocumentTypeMismatch(b.docType, nb.docType);
        if (document_.root == successor.root && document_.leaf == successor.leaf) {
            revert SupersedeBySelf(document_.root, document_.leaf);
        }
        _checkInclusion(document_);
        _checkInclusion(successor);
        _requireUsable(document_.root, document_.leaf);
        _requireUsable(successor.root, successor.leaf);
        bytes32 key = _key(document_.root, document_.leaf);
        _documents[key].supersededAt = uint40(block.timestamp);
        _successors[key] = [successor.root, successor.leaf];
        emit DocumentSuperseded(document_.root, document_.leaf, party, successor.root, successor.leaf);
    }

    function consume(Proof calldata document_) external {
        bytes8 consumer = ITrustRegistry(trustRegistry).adminParty(msg.sender);
        if (consumer == bytes8(0) || !ITrustRegistry(trustRegistry).isMember(consumer)) {
            revert NotAuthorizedForParty(msg.sender);
        }
        Batch memory b = _existing(document_.root);
        _checkInclusion(document_);
        _requireUsable(document_.root, document_.leaf);
        ITrustRegistry trust = ITrustRegistry(trustRegistry);
        if (!trust.recognizesIssuerAt(consumer, b.issuer, b.docType, uint40(block.timestamp))) {
            revert NotRecognized(consumer, b.issuer, b.docType);
        }
        // A document anchored after a (possibly backdated) revocation of its issuer or CA is invalid.
        if (!trust.anchoringValidAt(b.issuer, b.anchoredAt)) revert AnchoringNotValid(document_.root, b.issuer, b.anchoredAt);
        DocumentState storage s = _documents[_key(document_.root, document_.leaf)];
        s.consumedAt = uint40(block.timestamp);
        s.consumedBy = consumer;
        emit DocumentConsumed(document_.root, document_.leaf, consumer, msg.sender);
    }

    function syncIssuer(address account, bytes8 party, uint64 docTypes, bool active) external {
        if (msg.sender != trustRegistry) revert NotTrustRegistry(msg.sender);
        _issuers[account] = IssuerAuth(party, docTypes, active);
        emit IssuerSynced(account, party, docTypes, active);
    }

    // ------------------------------------------------------------------ views

    function batch(bytes32 root) external view returns (Batch memory) {
        return _batches[root];
    }

    function issuerAuth(address account) external view returns (IssuerAuth memory) {
        return _issuers[account];
    }

    function document(bytes32 root, bytes32 leaf) external view returns (DocumentView memory v) {
        bytes32 key = _key(root, leaf);
        v.batch = _batches[root];
        v.party = _issuers[v.batch.issuer].party;
        v.batchRevocation = _batchRevocations[root];
        v.state = _documents[key];
        v.successorRoot = _successors[key][0];
        v.successorLeaf = _successors[key][1];
    }

    function documentStateAt(bytes32 root, bytes32 leaf, uint40 time)
        external
        view
        returns (bool revoked, bool superseded, bool consumed)
    {
        DocumentState storage s = _documents[_key(root, leaf)];
        uint40 batchRevokedAt = _batchRevocations[root].revokedAt;
        revoked = (s.revokedAt != 0 && s.revokedAt <= time) || (batchRevokedAt != 0 && batchRevokedAt <= time);
        superseded = s.supersededAt != 0 && s.supersededAt <= time;
        consumed = s.consumedAt != 0 && s.consumedAt <= time;
    }

    function verifyInclusion(bytes32 root, bytes32 leaf, uint256 index, uint256 size, bytes32[] calldata path)
        external
        pure
        returns (bool)
    {
        return MerkleProof.verify(root, leaf, index, size, path);
    }

    // ------------------------------------------------------------------ internals

    function _anchor(IssuerAuth memory auth, bytes32 root, uint8 docType, uint32 size) private {
        if (!auth.active) revert IssuerNotActive(msg.sender);
        if (docType > 63 || auth.docTypes & (uint64(1) << docType) == 0) {
            revert DocumentTypeNotAllowed(msg.sender, docType);
        }
        if (root == bytes32(0)) revert InvalidRoot();
        if (size == 0) revert InvalidBatchSize(size);
        Batch storage b = _batches[root];
        if (b.issuer != address(0)) revert RootAlreadyAnchored(root, b.issuer, b.anchoredAt);
        _batches[root] = Batch(msg.sender, uint40(block.timestamp), docType, size);
        emit Anchored(root, msg.sender, docType, size);
    }

    function _existing(bytes32 root) private view returns (Batch memory b) {
        b = _batches[root];
        if (b.issuer == address(0)) revert UnknownBatch(root);
    }

    /// @dev The issuing party acts through its admins or any of its issuer accounts.
    function _issuingPartyOnly(bytes32 root) private view returns (Batch memory b, bytes8 party) {
        b = _existing(root);
        party = _issuers[b.issuer].party;
        // Only an active issuer account speaks for its party: a revoked (e.g. compromised) key must not.
        IssuerAuth memory auth = _issuers[msg.sender];
        bytes8 caller = auth.active ? auth.party : bytes8(0);
        if (caller == bytes8(0)) caller = ITrustRegistry(trustRegistry).adminParty(msg.sender);
        if (caller == bytes8(0)) revert NotAuthorizedForParty(msg.sender);
        if (caller != party) revert NotIssuingParty(root, caller, party);
    }

    function _checkInclusion(Proof calldata p) private view {
        if (!MerkleProof.verify(p.root, p.leaf, p.index, _batches[p.root].size, p.path)) {
            revert InvalidInclusionProof(p.root, p.leaf, p.index);
        }
    }

    function _requireUsable(bytes32 root, bytes32 leaf) private view {
        uint40 batchRevokedAt = _batchRevocations[root].revokedAt;
        if (batchRevokedAt != 0) revert BatchRevoked(root, batchRevokedAt);
        bytes32 key = _key(root, leaf);
        DocumentState storage s = _documents[key];
        if (s.revokedAt != 0) revert DocumentAlreadyRevoked(root, leaf, s.revokedAt);
        if (s.supersededAt != 0) {
            revert DocumentAlreadySuperseded(root, leaf, _successors[key][0], _successors[key][1]);
        }
        if (s.consumedAt != 0) revert DocumentAlreadyConsumed(root, leaf, s.consumedBy, s.consumedAt);
    }

    function _key(bytes32 root, bytes32 leaf) private pure returns (bytes32) {
        return keccak256(abi.encode(root, leaf));
    }
}
