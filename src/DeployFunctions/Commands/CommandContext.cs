using Octokit;

namespace DeployFunctions.Commands;

/// <summary>One command comment: where, by whom, when; the commenter's permission once it is looked up.</summary>
internal sealed record CommandContext
{
    public required string Repository { get; init; }

    /// <summary>The repository's default branch, from the signed webhook: the only place the policy file is read from.</summary>
    public required string DefaultBranch { get; init; }

    public required long PullRequest { get; init; }
    public required long CommentId { get; init; }
    public required string CommentUrl { get; init; }
    public required DateTimeOffset CommentedAt { get; init; }
    public required string Commenter { get; init; }
    public required string DeliveryId { get; init; }

    /// <summary>The commit the commenter confirmed with a 👍 (<c>Commands__DeploymentConfirmation</c>); null: not confirmed (yet).</summary>
    public string? ConfirmedSha { get; init; }

    /// <summary>The commenter's repository permission (<c>role_name</c>), looked up once per command; null: not a collaborator.</summary>
    public string? Permission { get; init; }
}

/// <summary>What a command answers: the reply (null: the deployment's result replies later) and the reaction that goes with it.</summary>
internal sealed record CommandAnswer(string Summary, ReactionType Reaction, string? Reply, bool Refused)
{
    /// <summary>A deployment that waits for the commenter's 👍: the question to post, and the commit it is about.</summary>
    public (string Question, string Sha)? Confirmation { get; init; }

    public static CommandAnswer Confirm(string summary, string question, string sha) =>
        new(summary, ReactionType.Eyes, null, Refused: false) { Confirmation = (question, sha) };

    public static CommandAnswer Done(string summary, string reply) => new(summary, ReactionType.Rocket, reply, Refused: false);

    public static CommandAnswer Refuse(string reply) => new(reply, ReactionType.Confused, reply, Refused: true);

    public static CommandAnswer Deferred(string summary) => new(summary, ReactionType.Eyes, null, Refused: false);
}
