// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ITrustRegistry} from "./ITrustRegistry.sol";
import {IDocumentRegistry} from "./IDocumentRegistry.sol";
import {StatusHistory} from "./StatusHistory.sol";

/// @title Trust Anchor — trust registry
/// @notice See {ITrustRegistry}. No owner, no proxy: membership and threshold change only by m-of-n
///         proposals of the member parties, and each party alone manages its own CAs, issuers and
///         recognitions.
contract TrustRegistry is ITrustRegistry {
    using StatusHistory for StatusChange[];

    /// @notice Reason code recorded when a party's removal revokes its issuer accounts.
    uint8 public constant REASON_PARTY_REMOVED = 255;

    address public immutable documentRegistry;
    uint256 public immutable proposalLifetime;
    uint256 public immutable adminDelay;
    uint256 public threshold;
    uint256 public memberCount;
    uint64 public oneTimeDocTypes;

    bytes8[] private _parties;
    mapping(bytes8 => MembershipChange[]) private _membership;
    mapping(address => bytes8) public adminParty;
    mapping(bytes8 => address[]) private _admins;

    uint256 public proposalCount;
    mapping(uint256 => Proposal) private _proposals;
    mapping(uint256 => bytes8[]) private _approvers;
    mapping(uint256 => mapping(bytes8 => bool)) public hasApproved;
    // The approver's membership epoch (length of its membership history) when it approved: an approval
    // made before the party left does not count after it rejoins.
    mapping(uint256 => mapping(bytes8 => uint256)) private _approvalEpoch;
    // The open AddParty proposal that names an account as the new party's admin.
    mapping(address => uint256) private _reservedBy;

    mapping(address => bytes8) public consumerParty;
    mapping(bytes8 => address[]) private _consumers;
    mapping(address => bytes8) public witnessParty;
    mapping(bytes8 => address[]) private _witnesses;

    uint256 public adminChangeCount;
    mapping(uint256 => AdminChange) private _adminChanges;
    mapping(uint256 => address[]) private _adminChangeApprovers;

    mapping(bytes32 => CertificateAuthority) private _cas;
    mapping(bytes32 => StatusChange[]) private _caHistory;
    mapping(bytes8 => bytes32[]) private _partyCAs;

    mapping(address => Issuer) private _issuers;
    mapping(address => StatusChange[]) private _issuerHistory;
    mapping(bytes8 => address[]) private _partyIssuers;

    mapping(bytes8 => mapping(bytes8 => RecognitionChange[])) private _recognition;

    /// @param foundingParties short party codes (e.g. "SG"), one admin account each.
    /// @param adminDelay_ seconds an admin change waits before it may run without a majority of admins.
    /// @param oneTimeDocTypes_ the document types that are consumable (e.g. CITES permits).
    /// @param documentRegistry_ the DocumentRegistry, deployed just before this contract and bound to it.
    constructor(
        bytes8[] memory foundingParties,
        address[] memory foundingAdmins,
        uint16 threshold_,
        uint40 proposalLifetime_,
        uint40 adminDelay_,
        uint64 oneTimeDocTypes_,
        address documentRegistry_
    ) {
        if (documentRegistry_ == address(0)) revert ZeroAddress();
        if (foundingParties.length != foundingAdmins.length || foundingParties.length == 0) {
            revert InvalidThreshold(threshold_, foundingParties.length);
        }
        documentRegistry = documentRegistry_;
        proposalLifetime = proposalLifetime_;
        adminDelay = adminDelay_;
        for (uint256 i = 0; i < foundingParties.length; ++i) {
            _admit(foundingParties[i], foundingAdmins[i], 0);
        }
        if (threshold_ == 0 || threshold_ > memberCount) revert InvalidThreshold(threshold_, memberCount);
        threshold = threshold_;
        emit ThresholdChanged(0, threshold_, 0);
        oneTimeDocTypes = oneTimeDocTypes_;
        emit OneTimeTypesChanged(0, oneTimeDocTypes_, 0);
    }

    // ------------------------------------------------------------------ governance

    function propose(ProposalKind kind, bytes8 party, address account, uint16 newThreshold, uint64 docTypes)
        external
        returns (uint256 proposalId)
    {
        bytes8 proposer = _callerParty();
        _checkProposal(kind, party, account, newThreshold, 0);
        proposalId = ++proposalCount;
        uint40 nowTime = uint40(block.timestamp);
        uint40 expiresAt = nowTime + uint40(proposalLifetime);
        _proposals[proposalId] =
            Proposal(kind, party, account, newThreshold, docTypes, proposer, nowTime, expiresAt, false, 0);
        // Nobody may take the future admin's account while the consortium decides.
        if (kind == ProposalKind.AddParty) _reservedBy[account] = proposalId;
        emit ProposalCreated(proposalId, kind, proposer, party, account, newThreshold, docTypes, expiresAt);
        _approve(proposalId, proposer);
    }

    function approve(uint256 proposalId) external {
        bytes8 party = _callerParty();
        _openProposal(proposalId);
        _approve(proposalId, party);
    }

    function execute(uint256 proposalId) external {
        _callerParty();
        Proposal storage p = _openProposal(proposalId);
        uint16 approvals = _currentApprovals(proposalId);
        if (approvals < threshold) revert InsufficientApprovals(proposalId, approvals, threshold);
        // Membership may have changed since the proposal was made: check it again.
        _checkProposal(p.kind, p.party, p.account, p.threshold, proposalId);
        p.executed = true;
        p.approvals = approvals;
        emit ProposalExecuted(proposalId, approvals);
        if (p.kind == ProposalKind.AddParty) {
            delete _reservedBy[p.account];
            _admit(p.party, p.account, proposalId);
        } else if (p.kind == ProposalKind.RemoveParty) {
            _expel(p.party, proposalId);
        } else if (p.kind == ProposalKind.SetThreshold) {
            emit ThresholdChanged(threshold, p.threshold, proposalId);
            threshold = p.threshold;
        } else {
            emit OneTimeTypesChanged(oneTimeDocTypes, p.docTypes, proposalId);
            oneTimeDocTypes = p.docTypes;
        }
    }

    // ------------------------------------------------------------------ a party's own admins

    function proposeAdminChange(address account, bool add) external returns (uint256 changeId) {
        bytes8 party = _callerParty();
        if (add) {
            _requireFreshAccount(account);
        } else {
            if (adminParty[account] != party) revert NotAdminOfParty(account, party);
            if (_admins[party].length == 1) revert LastAdmin(party, account);
        }
        changeId = ++adminChangeCount;
        uint40 nowTime = uint40(block.timestamp);
        uint40 readyAt = nowTime + uint40(adminDelay);
        uint40 expiresAt = readyAt + uint40(proposalLifetime);
        _adminChanges[changeId] = AdminChange(party, account, add, msg.sender, nowTime, readyAt, expiresAt, false, false, 0);
        emit AdminChangeProposed(changeId, party, account, add, msg.sender, readyAt, expiresAt);
        _approveAdminChange(changeId);
    }

    function approveAdminChange(uint256 changeId) external {
        bytes8 party = _callerParty();
        _openAdminChange(changeId, party);
        _approveAdminChange(changeId);
    }

    function cancelAdminChange(uint256 changeId) external {
        bytes8 party = _callerParty();
        AdminChange storage c = _openAdminChange(changeId, party);
        // Otherwise a stolen admin key could keep its own removal from ever happening.
        if (!c.add && c.account == msg.sender) revert CannotCancelOwnRemoval(changeId, msg.sender);
        c.cancelled = true;
        emit AdminChangeCancelled(changeId, msg.sender);
    }

    function executeAdminChange(uint256 changeId) external {
        bytes8 party = _callerParty();
        AdminChange storage c = _openAdminChange(changeId, party);
        uint16 approvals = _currentAdminApprovals(changeId, party);
        uint16 needed = uint16(_admins[party].length / 2 + 1);
        if (approvals < needed && block.timestamp < c.readyAt) {
            revert AdminChangeNotReady(changeId, approvals, needed, c.readyAt);
        }
        c.executed = true;
        c.approvals = approvals;
        if (c.add) {
            _requireFreshAccount(c.account);
            _addAdmin(party, c.account);
        } else {
            if (adminParty[c.account] != party) revert NotAdminOfParty(c.account, party);
            if (_admins[party].length == 1) revert LastAdmin(party, c.account);
            _removeAdmin(party, c.account);
        }
        emit AdminChangeExecuted(changeId, approvals);
    }

    // ------------------------------------------------------------------ consumer accounts

    function grantConsumer(address account) external {
        bytes8 party = _callerParty();
        _requireFreshAccount(account);
        consumerParty[account] = party;
        _consumers[party].push(account);
        emit ConsumerGranted(party, account);
    }

    function revokeConsumer(address account) external {
        bytes8 party = _callerParty();
        if (consumerParty[account] != party) revert NotConsumerOfParty(account, party);
        _dropConsumer(party, account);
    }

    // ------------------------------------------------------------------ witness accounts

    function grantWitness(address account) external {
        bytes8 party = _callerParty();
        _requireFreshAccount(account);
        witnessParty[account] = party;
        _witnesses[party].push(account);
        emit WitnessGranted(party, account);
    }

    function revokeWitness(address account) external {
        bytes8 party = _callerParty();
        if (witnessParty[account] != party) revert NotWitnessOfParty(account, party);
        _dropWitness(party, account);
    }

    // ------------------------------------------------------------------ certificate authorities

    function addCA(
        bytes calldata certificate,
        uint64 notBefore,
        uint64 notAfter,
        uint64 docTypes,
        bytes calldata proofOfPossession
    ) external returns (bytes32 fingerprint) {
        bytes8 party = _callerParty();
        if (certificate.length == 0) revert EmptyCertificate();
        bytes32 certificateHash = sha256(certificate);
        fingerprint = caId(party, certificateHash);
        if (_cas[fingerprint].status != Status.None) revert CAAlreadyRegistered(fingerprint, party);
        if (notBefore >= notAfter) revert InvalidValidity(notBefore, notAfter);
        if (docTypes == 0) revert EmptyDocumentTypes();
        uint40 nowTime = uint40(block.timestamp);
        _cas[fingerprint] = CertificateAuthority(party, notBefore, notAfter, docTypes, Status.Active, nowTime, 0);
        _caHistory[fingerprint].push(StatusChange(Status.Active, nowTime, nowTime, 0));
        _partyCAs[party].push(fingerprint);
        emit CARegistered(fingerprint, party, notBefore, notAfter, docTypes, nowTime);
        emit CACertificatePublished(fingerprint, party, certificateHash, certificate, proofOfPossession);
    }

    function suspendCA(bytes32 fingerprint, uint40 effectiveAt, uint8 reason) external {
        _changeCA(fingerprint, Status.Suspended, effectiveAt, reason);
    }

    function resumeCA(bytes32 fingerprint, uint40 effectiveAt) external {
        _changeCA(fingerprint, Status.Active, effectiveAt, 0);
    }

    function revokeCA(bytes32 fingerprint, uint40 effectiveAt, uint8 reason) external {
        _changeCA(fingerprint, Status.Revoked, effectiveAt, reason);
    }

    // ------------------------------------------------------------------ issuer accounts

    function authorizeIssuer(address account, bytes32 caFingerprint, uint64 docTypes) external {
        bytes8 party = _callerParty();
        if (account == address(0)) revert ZeroAddress();
        _requireFreshAccount(account);
        CertificateAuthority storage c = _ownCA(caFingerprint, party);
        if (c.status != Status.Active) revert CANotActive(caFingerprint, c.status);
        if (docTypes == 0) revert EmptyDocumentTypes();
        if (docTypes & ~c.docTypes != 0) revert DocumentTypesNotAllowedForCA(caFingerprint, docTypes, c.docTypes);
        uint40 nowTime = uint40(block.timestamp);
        _issuers[account] = Issuer(party, caFingerprint, docTypes, Status.Active, nowTime, 0);
        _issuerHistory[account].push(StatusChange(Status.Active, nowTime, nowTime, 0));
        _partyIssuers[party].push(account);
        emit IssuerAuthorized(account, party, caFingerprint, docTypes, nowTime);
        IDocumentRegistry(documentRegistry).syncIssuer(account, party, docTypes, true);
    }

    function suspendIssuer(address account, uint40 effectiveAt, uint8 reason) external {
        _changeIssuer(account, Status.Suspended, effectiveAt, reason);
    }

    function resumeIssuer(address account, uint40 effectiveAt) external {
        _changeIssuer(account, Status.Active, effectiveAt, 0);
    }

    function revokeIssuer(address account, uint40 effectiveAt, uint8 reason) external {
        _changeIssuer(account, Status.Revoked, effectiveAt, reason);
    }

    // ------------------------------------------------------------------ recognition

    function recognize(bytes8 party, uint64 docTypes, uint40 effectiveAt) external {
        (bytes8 recognizer, uint64 current) = _recognitionTarget(party, docTypes);
        _setRecognition(recognizer, party, current, current | docTypes, effectiveAt);
    }

    function unrecognize(bytes8 party, uint64 docTypes, uint40 effectiveAt) external {
        (bytes8 recognizer, uint64 current) = _recognitionTarget(party, docTypes);
        _setRecognition(recognizer, party, current, current & ~docTypes, effectiveAt);
    }

    // ------------------------------------------------------------------ views

    function parties() external view returns (bytes8[] memory) {
        return _parties;
    }

    function isMember(bytes8 party) public view returns (bool) {
        MembershipChange[] storage h = _membership[party];
        return h.length > 0 && h[h.length - 1].member;
    }

    function isMemberAt(bytes8 party, uint40 time) public view returns (bool) {
        MembershipChange[] storage h = _membership[party];
        for (uint256 i = h.length; i > 0; --i) {
            if (h[i - 1].at <= time) return h[i - 1].member;
        }
        return false;
    }

    function membershipHistory(bytes8 party) external view returns (MembershipChange[] memory) {
        return _membership[party];
    }

    function admins(bytes8 party) external view returns (address[] memory) {
        return _admins[party];
    }

    function consumers(bytes8 party) external view returns (address[] memory) {
        return _consumers[party];
    }

    function witnesses(bytes8 party) external view returns (address[] memory) {
        return _witnesses[party];
    }

    function roleOf(address account) public view returns (Role role, bytes8 party) {
        if ((party = adminParty[account]) != bytes8(0)) return (Role.Admin, party);
        // An issuer account stays bound to its party even once revoked: it is never reused for a new role.
        if ((party = _issuers[account].party) != bytes8(0)) return (Role.Issuer, party);
        if ((party = consumerParty[account]) != bytes8(0)) return (Role.Consumer, party);
        if ((party = witnessParty[account]) != bytes8(0)) return (Role.Witness, party);
        return (Role.None, bytes8(0));
    }

    function adminChange(uint256 changeId) external view returns (AdminChange memory c) {
        c = _adminChanges[changeId];
        if (!c.executed && c.party != bytes8(0)) c.approvals = _currentAdminApprovals(changeId, c.party);
    }

    function caId(bytes8 party, bytes32 certificateHash) public pure returns (bytes32) {
        return keccak256(abi.encode(party, certificateHash));
    }

    function proposal(uint256 proposalId) external view returns (Proposal memory p) {
        p = _proposals[proposalId];
        if (!p.executed) p.approvals = _currentApprovals(proposalId);
    }

    function ca(bytes32 fingerprint) external view returns (CertificateAuthority memory) {
        return _cas[fingerprint];
    }

    function caHistory(bytes32 fingerprint) external view returns (StatusChange[] memory) {
        return _caHistory[fingerprint];
    }

    function caStatusAt(bytes32 fingerprint, uint40 time) public view returns (Status) {
        CertificateAuthority storage c = _cas[fingerprint];
        return _caHistory[fingerprint].statusAt(c.status == Status.Revoked, c.revokedAt, time);
    }

    function partyCAs(bytes8 party) external view returns (bytes32[] memory) {
        return _partyCAs[party];
    }

    function issuer(address account) external view returns (Issuer memory) {
        return _issuers[account];
    }

    function issuerHistory(address account) external view returns (StatusChange[] memory) {
        return _issuerHistory[account];
    }

    function issuerStatusAt(address account, uint40 time) external view returns (Status) {
        Issuer storage i = _issuers[account];
        return _issuerHistory[account].statusAt(i.status == Status.Revoked, i.revokedAt, time);
    }

    function partyIssuers(bytes8 party) external view returns (address[] memory) {
        return _partyIssuers[party];
    }

    function recognitionAt(bytes8 recognizer, bytes8 recognized, uint40 time) public view returns (uint64) {
        RecognitionChange[] storage h = _recognition[recognizer][recognized];
        for (uint256 i = h.length; i > 0; --i) {
            if (h[i - 1].effectiveAt <= time) return h[i - 1].docTypes;
        }
        return 0;
    }

    function recognitionHistory(bytes8 recognizer, bytes8 recognized)
        external
        view
        returns (RecognitionChange[] memory)
    {
        return _recognition[recognizer][recognized];
    }

    function recognizesCAAt(bytes8 recognizer, bytes32 fingerprint, uint8 docType, uint40 time)
        public
        view
        returns (bool)
    {
        CertificateAuthority storage c = _cas[fingerprint];
        if (c.status == Status.None || docType > 63) return false;
        uint64 bit = uint64(1) << docType;
        if (c.docTypes & bit == 0) return false;
        if (!isMemberAt(recognizer, time) || !isMemberAt(c.party, time)) return false;
        if (c.party == recognizer) return true;
        return recognitionAt(recognizer, c.party, time) & bit != 0;
    }

    function recognizesIssuerAt(bytes8 recognizer, address account, uint8 docType, uint40 time)
        external
        view
        returns (bool)
    {
        Issuer storage i = _issuers[account];
        if (i.status == Status.None) return false;
        return recognizesCAAt(recognizer, i.ca, docType, time);
    }

    function anchoringValidAt(address account, uint40 time) external view returns (bool) {
        Issuer storage i = _issuers[account];
        if (i.status == Status.None) return false;
        return _issuerHistory[account].statusAt(i.status == Status.Revoked, i.revokedAt, time) == Status.Active
            && caStatusAt(i.ca, time) == Status.Active && isMemberAt(i.party, time);
    }

    function verificationContext(address account, uint8 docType, bytes8 verifier, uint40 time)
        external
        view
        returns (VerificationContext memory v)
    {
        v.verifierMember = isMember(verifier);
        v.issuer = _issuers[account];
        if (v.issuer.status == Status.None) return v;
        v.issuerStatusAtTime =
            _issuerHistory[account].statusAt(v.issuer.status == Status.Revoked, v.issuer.revokedAt, time);
        v.issuerPartyMemberAtTime = isMemberAt(v.issuer.party, time);
        v.ca = _cas[v.issuer.ca];
        v.caStatusAtTime = caStatusAt(v.issuer.ca, time);
        v.recognizedAtTime = recognizesCAAt(verifier, v.issuer.ca, docType, time);
        v.recognizedNow = recognizesCAAt(verifier, v.issuer.ca, docType, uint40(block.timestamp));
    }

    // ------------------------------------------------------------------ internals

    function _callerParty() private view returns (bytes8 party) {
        party = adminParty[msg.sender];
        if (party == bytes8(0)) revert NotPartyAdmin(msg.sender);
        if (!isMember(party)) revert PartyNotMember(party);
    }

    /// @param proposalId the proposal being executed (its own reservation does not count), or 0.
    function _checkProposal(ProposalKind kind, bytes8 party, address account, uint16 newThreshold, uint256 proposalId)
        private
        view
    {
        if (kind == ProposalKind.AddParty) {
            if (party == bytes8(0)) revert InvalidPartyId(party);
            if (isMember(party)) revert PartyAlreadyMember(party);
            _requireFreshAccount(account, proposalId);
        } else if (kind == ProposalKind.RemoveParty) {
            if (!isMember(party)) revert PartyNotMember(party);
            if (memberCount == 1) revert CannotRemoveLastParty(party);
        } else if (kind == ProposalKind.SetThreshold && (newThreshold == 0 || newThreshold > memberCount)) {
            revert InvalidThreshold(newThreshold, memberCount);
        }
    }

    /// @dev One account, one role, one party: a key is never an admin and an issuer, nor two parties' key.
    function _requireFreshAccount(address account) private view {
        _requireFreshAccount(account, 0);
    }

    function _requireFreshAccount(address account, uint256 ownProposal) private view {
        if (account == address(0)) revert ZeroAddress();
        (Role role, bytes8 party) = roleOf(account);
        if (role != Role.None) revert AccountHasRole(account, party, role);
        uint256 reservation = _reservedBy[account];
        if (reservation != 0 && reservation != ownProposal) {
            Proposal storage p = _proposals[reservation];
            if (!p.executed && block.timestamp <= p.expiresAt) revert AccountReserved(account, reservation);
        }
    }

    /// @dev When the membership of `party` that covers `time` began; 0 if it was not a member then.
    function _memberSince(bytes8 party, uint40 time) private view returns (uint40) {
        MembershipChange[] storage h = _membership[party];
        for (uint256 i = h.length; i > 0; --i) {
            if (h[i - 1].at <= time) return h[i - 1].member ? h[i - 1].at : type(uint40).max;
        }
        return type(uint40).max;
    }

    function _openAdminChange(uint256 changeId, bytes8 party) private view returns (AdminChange storage c) {
        c = _adminChanges[changeId];
        if (c.party == bytes8(0)) revert UnknownAdminChange(changeId);
        if (c.party != party) revert NotAdminOfParty(msg.sender, c.party);
        if (c.executed || c.cancelled || block.timestamp > c.expiresAt) revert AdminChangeClosed(changeId);
        // Proposed in an earlier membership of the party: its admins then are not its admins now.
        if (c.createdAt < _memberSince(party, uint40(block.timestamp))) revert AdminChangeClosed(changeId);
    }

    function _approveAdminChange(uint256 changeId) private {
        address[] storage approvers = _adminChangeApprovers[changeId];
        for (uint256 i = 0; i < approvers.length; ++i) {
            if (approvers[i] == msg.sender) revert AdminChangeAlreadyApproved(changeId, msg.sender);
        }
        approvers.push(msg.sender);
        emit AdminChangeApproved(changeId, msg.sender);
    }

    /// @dev Only approvers that are still admins of the party count.
    function _currentAdminApprovals(uint256 changeId, bytes8 party) private view returns (uint16 count) {
        address[] storage approvers = _adminChangeApprovers[changeId];
        for (uint256 i = 0; i < approvers.length; ++i) {
            if (adminParty[approvers[i]] == party) ++count;
        }
    }

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.createdAt == 0) revert InvalidProposal(proposalId);
        if (p.executed) revert ProposalAlreadyExecuted(proposalId);
        if (block.timestamp > p.expiresAt) revert ProposalExpired(proposalId, p.expiresAt);
    }

    function _approve(uint256 proposalId, bytes8 party) private {
        uint256 epoch = _membership[party].length;
        if (_approvalEpoch[proposalId][party] == epoch) revert AlreadyApproved(proposalId, party);
        if (!hasApproved[proposalId][party]) _approvers[proposalId].push(party);
        hasApproved[proposalId][party] = true;
        _approvalEpoch[proposalId][party] = epoch;
        emit ProposalApproved(proposalId, party);
    }

    /// @dev Only approvals given in the approver's current membership count: a removed party's approval
    ///      lapses and does not come back when it rejoins.
    function _currentApprovals(uint256 proposalId) private view returns (uint16 count) {
        bytes8[] storage approvers = _approvers[proposalId];
        for (uint256 i = 0; i < approvers.length; ++i) {
            bytes8 a = approvers[i];
            if (isMember(a) && _approvalEpoch[proposalId][a] == _membership[a].length) ++count;
        }
    }

    /// @dev A returning party starts afresh: its old issuers were revoked when it left, and recognitions
    ///      given in its earlier membership do not count (see recognitionAt).
    function _admit(bytes8 party, address admin, uint256 proposalId) private {
        if (party == bytes8(0)) revert InvalidPartyId(party);
        if (isMember(party)) revert PartyAlreadyMember(party);
        _requireFreshAccount(admin);
        if (_membership[party].length == 0) _parties.push(party);
        _membership[party].push(MembershipChange(true, uint40(block.timestamp)));
        ++memberCount;
        emit PartyAdded(party, admin, proposalId);
        _addAdmin(party, admin);
    }

    function _expel(bytes8 party, uint256 proposalId) private {
        _membership[party].push(MembershipChange(false, uint40(block.timestamp)));
        --memberCount;
        emit PartyRemoved(party, proposalId);
        // A removed party's admins lose their role; readmission names a fresh admin (the old accounts may be
        // added again only through the new admins' own admin changes).
        address[] storage list = _admins[party];
        while (list.length > 0) {
            address account = list[list.length - 1];
            list.pop();
            delete adminParty[account];
            emit AdminRemoved(party, account);
        }
        if (threshold > memberCount) {
            emit ThresholdChanged(threshold, memberCount, proposalId);
            threshold = memberCount;
        }
        address[] storage cons = _consumers[party];
        while (cons.length > 0) {
            _dropConsumer(party, cons[cons.length - 1]);
        }
        address[] storage wits = _witnesses[party];
        while (wits.length > 0) {
            _dropWitness(party, wits[wits.length - 1]);
        }
        // Recognitions given to it and by it end now, in the history and in events, so that a readmission
        // restores none of them (even within the same second) and the audit replays exactly this.
        uint40 nowTime = uint40(block.timestamp);
        for (uint256 i = 0; i < _parties.length; ++i) {
            bytes8 other = _parties[i];
            if (other == party) continue;
            _endRecognition(other, party, nowTime);
            _endRecognition(party, other, nowTime);
        }
        // Its issuer keys are revoked for good (effective now: what they anchored while a member stays
        // valid), so that a later readmission cannot silently bring them back.
        address[] storage accounts = _partyIssuers[party];
        for (uint256 i = 0; i < accounts.length; ++i) {
            Issuer storage iss = _issuers[accounts[i]];
            if (iss.status == Status.Revoked) continue;
            _issuerHistory[accounts[i]].push(StatusChange(Status.Revoked, nowTime, nowTime, REASON_PARTY_REMOVED));
            iss.status = Status.Revoked;
            iss.revokedAt = nowTime;
            emit IssuerStatusChanged(accounts[i], party, Status.Revoked, nowTime, REASON_PARTY_REMOVED);
            IDocumentRegistry(documentRegistry).syncIssuer(accounts[i], party, iss.docTypes, false);
        }
    }

    function _endRecognition(bytes8 recognizer, bytes8 recognized, uint40 nowTime) private {
        RecognitionChange[] storage h = _recognition[recognizer][recognized];
        if (h.length == 0 || h[h.length - 1].docTypes == 0) return;
        uint64 old = h[h.length - 1].docTypes;
        h.push(RecognitionChange(0, nowTime));
        emit RecognitionChanged(recognizer, recognized, old, 0, nowTime);
    }

    function _addAdmin(bytes8 party, address account) private {
        adminParty[account] = party;
        _admins[party].push(account);
        emit AdminAdded(party, account);
    }

    function _removeAdmin(bytes8 party, address account) private {
        _removeFrom(_admins[party], account);
        delete adminParty[account];
        emit AdminRemoved(party, account);
    }

    function _dropConsumer(bytes8 party, address account) private {
        _removeFrom(_consumers[party], account);
        delete consumerParty[account];
        emit ConsumerRevoked(party, account);
    }

    function _dropWitness(bytes8 party, address account) private {
        _removeFrom(_witnesses[party], account);
        delete witnessParty[account];
        emit WitnessRevoked(party, account);
    }

    function _removeFrom(address[] storage list, address account) private {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == account) {
                list[i] = list[list.length - 1];
                list.pop();
                return;
            }
        }
    }

    /// @dev Issuers under a suspended or revoked CA must stop anchoring; they may again when it resumes.
    function _syncCAIssuers(bytes8 party, bytes32 fingerprint, bool caActive) private {
        address[] storage accounts = _partyIssuers[party];
        for (uint256 i = 0; i < accounts.length; ++i) {
            Issuer storage iss = _issuers[accounts[i]];
            if (iss.ca != fingerprint || iss.status == Status.Revoked) continue;
            IDocumentRegistry(documentRegistry).syncIssuer(
                accounts[i], party, iss.docTypes, caActive && iss.status == Status.Active
            );
        }
    }

    function _ownCA(bytes32 fingerprint, bytes8 party) private view returns (CertificateAuthority storage c) {
        c = _cas[fingerprint];
        if (c.status == Status.None) revert UnknownCA(fingerprint);
        if (c.party != party) revert NotYourCA(fingerprint, c.party, party);
    }

    function _changeCA(bytes32 fingerprint, Status target, uint40 effectiveAt, uint8 reason) private {
        bytes8 party = _callerParty();
        CertificateAuthority storage c = _ownCA(fingerprint, party);
        uint40 effective = _caHistory[fingerprint].transition(c.status, target, effectiveAt, reason);
        c.status = target;
        if (target == Status.Revoked) c.revokedAt = effective;
        emit CAStatusChanged(fingerprint, party, target, effective, reason);
        _syncCAIssuers(party, fingerprint, target == Status.Active);
    }

    function _changeIssuer(address account, Status target, uint40 effectiveAt, uint8 reason) private {
        bytes8 party = _callerParty();
        Issuer storage i = _issuers[account];
        if (i.status == Status.None) revert UnknownIssuer(account);
        if (i.party != party) revert NotYourIssuer(account, i.party, party);
        uint40 effective = _issuerHistory[account].transition(i.status, target, effectiveAt, reason);
        i.status = target;
        if (target == Status.Revoked) i.revokedAt = effective;
        emit IssuerStatusChanged(account, party, target, effective, reason);
        bool active = target == Status.Active && _cas[i.ca].status == Status.Active;
        IDocumentRegistry(documentRegistry).syncIssuer(account, party, i.docTypes, active);
    }

    function _recognitionTarget(bytes8 party, uint64 docTypes) private view returns (bytes8 recognizer, uint64 current) {
        recognizer = _callerParty();
        if (party == recognizer) revert CannotRecognizeSelf(party);
        if (!isMember(party)) revert PartyNotMember(party);
        if (docTypes == 0) revert EmptyDocumentTypes();
        RecognitionChange[] storage h = _recognition[recognizer][party];
        current = h.length == 0 ? 0 : h[h.length - 1].docTypes;
    }

    function _setRecognition(bytes8 recognizer, bytes8 party, uint64 oldTypes, uint64 newTypes, uint40 effectiveAt)
        private
    {
        uint40 nowTime = uint40(block.timestamp);
        uint40 effective = effectiveAt == 0 ? nowTime : effectiveAt;
        if (effective > nowTime) revert EffectiveTimeInFuture(effective, nowTime);
        uint40 admitted = _memberSince(recognizer, nowTime);
        uint40 admitted2 = _memberSince(party, nowTime);
        if (admitted2 > admitted) admitted = admitted2;
        if (effective < admitted) revert EffectiveTimeBeforeAdmission(effective, admitted);
        RecognitionChange[] storage h = _recognition[recognizer][party];
        if (h.length > 0 && effective < h[h.length - 1].effectiveAt) {
            revert EffectiveTimeBeforeLastChange(effective, h[h.length - 1].effectiveAt);
        }
        h.push(RecognitionChange(newTypes, effective));
        emit RecognitionChanged(recognizer, party, oldTypes, newTypes, effective);
    }
}
