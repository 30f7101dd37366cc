// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Trust Anchor — trust registry
/// @notice Who is trusted, by whom, since when: member parties (one per jurisdiction) governed m-of-n,
///         their national certificate authorities, their issuing agencies' accounts and who recognizes
///         whom for which document types. Every status change carries an effective time and is kept as
///         history, so every question can be asked "at time T". Every change emits an event complete
///         enough to rebuild the whole state from logs alone.
/// @dev Document types are bit indexes 0..63 in a uint64 mask; the off-chain catalogue names them.
interface ITrustRegistry {
    /// @notice Lifecycle of a CA or an issuer account. Revoked is final.
    enum Status {
        None,
        Active,
        Suspended,
        Revoked
    }

    enum ProposalKind {
        AddParty,
        RemoveParty,
        SetThreshold
    }

    /// @notice One entry of a status history. `effectiveAt` may lie before `recordedAt`
    ///         (a backdated revocation, like a CRL invalidity date).
    struct StatusChange {
        Status status;
        uint40 effectiveAt;
        uint40 recordedAt;
        uint8 reason;
    }

    struct CertificateAuthority {
        bytes8 party;
        uint64 notBefore;
        uint64 notAfter;
        uint64 docTypes;
        Status status;
        uint40 registeredAt;
        uint40 revokedAt;
    }

    struct Issuer {
        bytes8 party;
        bytes32 ca;
        uint64 docTypes;
        Status status;
        uint40 authorizedAt;
        uint40 revokedAt;
    }

    struct RecognitionChange {
        uint64 docTypes;
        uint40 effectiveAt;
    }

    struct MembershipChange {
        bool member;
        uint40 at;
    }

    struct Proposal {
        ProposalKind kind;
        bytes8 party;
        address account;
        uint16 threshold;
        bytes8 proposer;
        uint40 createdAt;
        uint40 expiresAt;
        bool executed;
        uint16 approvals;
    }

    /// @notice Everything a verifier needs to judge one anchoring, read in one call.
    struct VerificationContext {
        Issuer issuer;
        Status issuerStatusAtTime;
        bool issuerPartyMemberAtTime;
        CertificateAuthority ca;
        Status caStatusAtTime;
        bool recognizedAtTime;
        bool recognizedNow;
        bool verifierMember;
    }

    // ---- errors ----
    error NotPartyAdmin(address account);
    error PartyNotMember(bytes8 party);
    error PartyAlreadyMember(bytes8 party);
    error InvalidPartyId(bytes8 party);
    error AccountAlreadyAdmin(address account, bytes8 party);
    error LastAdmin(bytes8 party, address account);
    error NotAdminOfParty(address account, bytes8 party);
    error InvalidThreshold(uint256 threshold, uint256 members);
    error InvalidProposal(uint256 proposalId);
    error ProposalExpired(uint256 proposalId, uint40 expiresAt);
    error ProposalAlreadyExecuted(uint256 proposalId);
    error AlreadyApproved(uint256 proposalId, bytes8 party);
    error InsufficientApprovals(uint256 proposalId, uint256 approvals, uint256 threshold);
    error CannotRemoveLastParty(bytes8 party);
    error ZeroAddress();
    error InvalidFingerprint();
    error CAAlreadyRegistered(bytes32 fingerprint, bytes8 party);
    error UnknownCA(bytes32 fingerprint);
    error NotYourCA(bytes32 fingerprint, bytes8 owner, bytes8 caller);
    error InvalidValidity(uint64 notBefore, uint64 notAfter);
    error EmptyDocumentTypes();
    error DocumentTypesNotAllowedForCA(bytes32 fingerprint, uint64 requested, uint64 allowed);
    error CANotActive(bytes32 fingerprint, Status status);
    error IssuerAlreadyRegistered(address account, bytes8 party);
    error UnknownIssuer(address account);
    error NotYourIssuer(address account, bytes8 owner, bytes8 caller);
    error InvalidStatusTransition(Status from, Status to);
    error EffectiveTimeInFuture(uint40 effectiveAt, uint40 nowTime);
    error EffectiveTimeBeforeLastChange(uint40 effectiveAt, uint40 lastEffectiveAt);
    error CannotRecognizeSelf(bytes8 party);
    error AccountIsAdminOfAnotherParty(address account, bytes8 party);
    error NotDocumentRegistry(address caller);

    // ---- events ----
    event PartyAdded(bytes8 indexed party, address admin, uint256 indexed proposalId);
    event PartyRemoved(bytes8 indexed party, uint256 indexed proposalId);
    event AdminAdded(bytes8 indexed party, address indexed admin);
    event AdminRemoved(bytes8 indexed party, address indexed admin);
    event ThresholdChanged(uint256 oldThreshold, uint256 newThreshold, uint256 indexed proposalId);
    event ProposalCreated(
        uint256 indexed proposalId,
        ProposalKind kind,
        bytes8 indexed proposer,
        bytes8 party,
        address account,
        uint16 threshold,
        uint40 expiresAt
    );
    event ProposalApproved(uint256 indexed proposalId, bytes8 indexed party);
    event ProposalExecuted(uint256 indexed proposalId, uint16 approvals);
    event CARegistered(
        bytes32 indexed fingerprint,
        bytes8 indexed party,
        uint64 notBefore,
        uint64 notAfter,
        uint64 docTypes,
        uint40 effectiveAt
    );
    event CAStatusChanged(
        bytes32 indexed fingerprint, bytes8 indexed party, Status status, uint40 effectiveAt, uint8 reason
    );
    event IssuerAuthorized(
        address indexed account, bytes8 indexed party, bytes32 ca, uint64 docTypes, uint40 effectiveAt
    );
    event IssuerStatusChanged(
        address indexed account, bytes8 indexed party, Status status, uint40 effectiveAt, uint8 reason
    );
    event RecognitionChanged(
        bytes8 indexed recognizer, bytes8 indexed recognized, uint64 oldDocTypes, uint64 newDocTypes, uint40 effectiveAt
    );

    // ---- governance ----
    /// @notice Propose a membership or threshold change; the proposer's party approves it at once.
    function propose(ProposalKind kind, bytes8 party, address account, uint16 threshold)
        external
        returns (uint256 proposalId);
    /// @notice Approve an open, unexpired proposal on behalf of the caller's party.
    function approve(uint256 proposalId) external;
    /// @notice Execute a proposal approved by at least `threshold` current member parties.
    function execute(uint256 proposalId) external;
    /// @notice A party adds or removes its own admin accounts.
    function addAdmin(address account) external;
    function removeAdmin(address account) external;

    // ---- certificate authorities (a party manages only its own) ----
    function addCA(bytes32 fingerprint, uint64 notBefore, uint64 notAfter, uint64 docTypes) external;
    /// @param effectiveAt 0 means now; never in the future; not before the previous change.
    function suspendCA(bytes32 fingerprint, uint40 effectiveAt, uint8 reason) external;
    function resumeCA(bytes32 fingerprint, uint40 effectiveAt) external;
    /// @param effectiveAt 0 means now; may lie in the past (key compromise): documents anchored after it
    ///        become invalid while earlier ones stay valid.
    function revokeCA(bytes32 fingerprint, uint40 effectiveAt, uint8 reason) external;

    // ---- issuer accounts (a party manages only its own) ----
    function authorizeIssuer(address account, bytes32 ca, uint64 docTypes) external;
    function suspendIssuer(address account, uint40 effectiveAt, uint8 reason) external;
    function resumeIssuer(address account, uint40 effectiveAt) external;
    function revokeIssuer(address account, uint40 effectiveAt, uint8 reason) external;

    // ---- recognition ----
    /// @notice The caller's party starts recognizing `party`'s CAs for `docTypes` (added to what it had).
    function recognize(bytes8 party, uint64 docTypes, uint40 effectiveAt) external;
    /// @notice The caller's party withdraws recognition of `party`'s CAs for `docTypes`.
    function unrecognize(bytes8 party, uint64 docTypes, uint40 effectiveAt) external;

    // ---- views ----
    function documentRegistry() external view returns (address);
    function threshold() external view returns (uint256);
    function proposalLifetime() external view returns (uint256);
    function memberCount() external view returns (uint256);
    function parties() external view returns (bytes8[] memory);
    function isMember(bytes8 party) external view returns (bool);
    function isMemberAt(bytes8 party, uint40 time) external view returns (bool);
    function membershipHistory(bytes8 party) external view returns (MembershipChange[] memory);
    function adminParty(address account) external view returns (bytes8);
    function admins(bytes8 party) external view returns (address[] memory);
    function proposalCount() external view returns (uint256);
    function proposal(uint256 proposalId) external view returns (Proposal memory);
    function hasApproved(uint256 proposalId, bytes8 party) external view returns (bool);
    function ca(bytes32 fingerprint) external view returns (CertificateAuthority memory);
    function caHistory(bytes32 fingerprint) external view returns (StatusChange[] memory);
    function caStatusAt(bytes32 fingerprint, uint40 time) external view returns (Status);
    function partyCAs(bytes8 party) external view returns (bytes32[] memory);
    function issuer(address account) external view returns (Issuer memory);
    function issuerHistory(address account) external view returns (StatusChange[] memory);
    function issuerStatusAt(address account, uint40 time) external view returns (Status);
    function partyIssuers(bytes8 party) external view returns (address[] memory);
    function recognitionAt(bytes8 recognizer, bytes8 recognized, uint40 time) external view returns (uint64);
    function recognitionHistory(bytes8 recognizer, bytes8 recognized)
        external
        view
        returns (RecognitionChange[] memory);
    /// @notice Does party `recognizer` recognize CA `fingerprint` for `docType` at `time`?
    ///         A party recognizes its own CAs for the types they are registered for.
    function recognizesCAAt(bytes8 recognizer, bytes32 fingerprint, uint8 docType, uint40 time)
        external
        view
        returns (bool);
    function recognizesIssuerAt(bytes8 recognizer, address account, uint8 docType, uint40 time)
        external
        view
        returns (bool);
    /// @notice Was an anchoring by `account` at `time` valid by the registry's own rules: the account and its
    ///         CA active then (a backdated revocation covering `time` makes it invalid), its party a member?
    function anchoringValidAt(address account, uint40 time) external view returns (bool);
    /// @notice The issuer account, its CA and their statuses at `time` (the anchoring time), and whether
    ///         `verifier` recognized that CA for `docType` then and recognizes it now.
    function verificationContext(address account, uint8 docType, bytes8 verifier, uint40 time)
        external
        view
        returns (VerificationContext memory);
}
