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

    address public immutable documentRegistry;
    uint256 public immutable proposalLifetime;
    uint256 public threshold;
    uint256 public memberCount;

    bytes8[] private _parties;
    mapping(bytes8 => MembershipChange[]) private _membership;
    mapping(address => bytes8) public adminParty;
    mapping(bytes8 => address[]) private _admins;

    uint256 public proposalCount;
    mapping(uint256 => Proposal) private _proposals;
    mapping(uint256 => bytes8[]) private _approvers;
    mapping(uint256 => mapping(bytes8 => bool)) public hasApproved;

    mapping(bytes32 => CertificateAuthority) private _cas;
    mapping(bytes32 => StatusChange[]) private _caHistory;
    mapping(bytes8 => bytes32[]) private _partyCAs;

    mapping(address => Issuer) private _issuers;
    mapping(address => StatusChange[]) private _issuerHistory;
    mapping(bytes8 => address[]) private _partyIssuers;

    mapping(bytes8 => mapping(bytes8 => RecognitionChange[])) private _recognition;

    /// @param foundingParties short party codes (e.g. "SG"), one admin account each.
    /// @param documentRegistry_ the DocumentRegistry, deployed just before this contract and bound to it.
    constructor(
        bytes8[] memory foundingParties,
        address[] memory foundingAdmins,
        uint16 threshold_,
        uint40 proposalLifetime_,
        address documentRegistry_
    ) {
        if (documentRegistry_ == address(0)) revert ZeroAddress();
        if (foundingParties.length != foundingAdmins.length || foundingParties.length == 0) {
            revert InvalidThreshold(threshold_, foundingParties.length);
        }
        documentRegistry = documentRegistry_;
        proposalLifetime = proposalLifetime_;
        for (uint256 i = 0; i < foundingParties.length; ++i) {
            _admit(foundingParties[i], foundingAdmins[i], 0);
        }
        if (threshold_ == 0 || threshold_ > memberCount) revert InvalidThreshold(threshold_, memberCount);
        threshold = threshold_;
        emit ThresholdChanged(0, threshold_, 0);
    }

    // ------------------------------------------------------------------ governance

    function propose(ProposalKind kind, bytes8 party, address account, uint16 newThreshold)
        external
        returns (uint256 proposalId)
    {
        bytes8 proposer = _callerParty();
        _checkProposal(kind, party, account, newThreshold);
        proposalId = ++proposalCount;
        uint40 nowTime = uint40(block.timestamp);
        uint40 expiresAt = nowTime + uint40(proposalLifetime);
        _proposals[proposalId] = Proposal(kind, party, account, newThreshold, proposer, nowTime, expiresAt, false, 0);
        emit ProposalCreated(proposalId, kind, proposer, party, account, newThreshold, expiresAt);
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
        _checkProposal(p.kind, p.party, p.account, p.threshold);
        p.executed = true;
        p.approvals = approvals;
        emit ProposalExecuted(proposalId, approvals);
        if (p.kind == ProposalKind.AddParty) {
            _admit(p.party, p.account, proposalId);
        } else if (p.kind == ProposalKind.RemoveParty) {
            _expel(p.party, proposalId);
        } else {
            emit ThresholdChanged(threshold, p.threshold, proposalId);
            threshold = p.threshold;
        }
    }

    function addAdmin(address account) external {
        bytes8 party = _callerParty();
        if (account == address(0)) revert ZeroAddress();
        if (adminParty[account] != bytes8(0)) revert AccountAlreadyAdmin(account, adminParty[account]);
        _addAdmin(party, account);
    }

    function removeAdmin(address account) external {
        bytes8 party = _callerParty();
        if (adminParty[account] != party) revert NotAdminOfParty(account, party);
        address[] storage list = _admins[party];
        if (list.length == 1) revert LastAdmin(party, account);
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == account) {
                list[i] = list[list.length - 1];
                list.pop();
                break;
            }
        }
        delete adminParty[account];
        emit AdminRemoved(party, account);
    }

    // ------------------------------------------------------------------ certificate authorities

    function addCA(bytes32 fingerprint, uint64 notBefore, uint64 notAfter, uint64 docTypes) external {
        bytes8 party = _callerParty();
        if (fingerprint == bytes32(0)) revert InvalidFingerprint();
        if (_cas[fingerprint].status != Status.None) revert CAAlreadyRegistered(fingerprint, _cas[fingerprint].party);
        if (notBefore >= notAfter) revert InvalidValidity(notBefore, notAfter);
        if (docTypes == 0) revert EmptyDocumentTypes();
        uint40 nowTime = uint40(block.timestamp);
        _cas[fingerprint] = CertificateAuthority(party, notBefore, notAfter, docTypes, Status.Active, nowTime, 0);
        _caHistory[fingerprint].push(StatusChange(Status.Active, nowTime, nowTime, 0));
        _partyCAs[party].push(fingerprint);
        emit CARegistered(fingerprint, party, notBefore, notAfter, docTypes, nowTime);
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
        if (_issuers[account].status != Status.None) {
            revert IssuerAlreadyRegistered(account, _issuers[account].party);
        }
        bytes8 adminOf = adminParty[account];
        if (adminOf != bytes8(0) && adminOf != party) revert AccountIsAdminOfAnotherParty(account, adminOf);
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

    function _checkProposal(ProposalKind kind, bytes8 party, address account, uint16 newThreshold) private view {
        if (kind == ProposalKind.AddParty) {
            if (party == bytes8(0)) revert InvalidPartyId(party);
            if (isMember(party)) revert PartyAlreadyMember(party);
            if (account == address(0)) revert ZeroAddress();
            if (adminParty[account] != bytes8(0)) revert AccountAlreadyAdmin(account, adminParty[account]);
        } else if (kind == ProposalKind.RemoveParty) {
            if (!isMember(party)) revert PartyNotMember(party);
            if (memberCount == 1) revert CannotRemoveLastParty(party);
        } else if (newThreshold == 0 || newThreshold > memberCount) {
            revert InvalidThreshold(newThreshold, memberCount);
        }
    }

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.createdAt == 0) revert InvalidProposal(proposalId);
        if (p.executed) revert ProposalAlreadyExecuted(proposalId);
        if (block.timestamp > p.expiresAt) revert ProposalExpired(proposalId, p.expiresAt);
    }

    function _approve(uint256 proposalId, bytes8 party) private {
        if (hasApproved[proposalId][party]) revert AlreadyApproved(proposalId, party);
        hasApproved[proposalId][party] = true;
        _approvers[proposalId].push(party);
        emit ProposalApproved(proposalId, party);
    }

    /// @dev Only approvals of parties that are members now count: a removed party's approval lapses.
    function _currentApprovals(uint256 proposalId) private view returns (uint16 count) {
        bytes8[] storage approvers = _approvers[proposalId];
        for (uint256 i = 0; i < approvers.length; ++i) {
            if (isMember(approvers[i])) ++count;
        }
    }

    function _admit(bytes8 party, address admin, uint256 proposalId) private {
        if (party == bytes8(0)) revert InvalidPartyId(party);
        if (isMember(party)) revert PartyAlreadyMember(party);
        if (admin == address(0)) revert ZeroAddress();
        if (adminParty[admin] != bytes8(0)) revert AccountAlreadyAdmin(admin, adminParty[admin]);
        if (_membership[party].length == 0) _parties.push(party);
        _membership[party].push(MembershipChange(true, uint40(block.timestamp)));
        ++memberCount;
        emit PartyAdded(party, admin, proposalId);
        _addAdmin(party, admin);
        _syncPartyIssuers(party, true);
    }

    function _expel(bytes8 party, uint256 proposalId) private {
        _membership[party].push(MembershipChange(false, uint40(block.timestamp)));
        --memberCount;
        emit PartyRemoved(party, proposalId);
        // A removed party's admins lose their role for good: readmission names a fresh admin.
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
        _syncPartyIssuers(party, false);
    }

    function _addAdmin(bytes8 party, address account) private {
        adminParty[account] = party;
        _admins[party].push(account);
        emit AdminAdded(party, account);
    }

    /// @dev A non-member's issuers must not anchor; a returning member's active issuers may again.
    function _syncPartyIssuers(bytes8 party, bool member) private {
        address[] storage accounts = _partyIssuers[party];
        for (uint256 i = 0; i < accounts.length; ++i) {
            Issuer storage iss = _issuers[accounts[i]];
            if (iss.status == Status.Revoked) continue;
            bool active = member && iss.status == Status.Active && _cas[iss.ca].status == Status.Active;
            IDocumentRegistry(documentRegistry).syncIssuer(accounts[i], party, iss.docTypes, active);
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
        RecognitionChange[] storage h = _recognition[recognizer][party];
        if (h.length > 0 && effective < h[h.length - 1].effectiveAt) {
            revert EffectiveTimeBeforeLastChange(effective, h[h.length - 1].effectiveAt);
        }
        h.push(RecognitionChange(newTypes, effective));
        emit RecognitionChanged(recognizer, party, oldTypes, newTypes, effective);
    }
}
