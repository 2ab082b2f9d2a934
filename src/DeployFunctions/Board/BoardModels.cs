namespace DeployFunctions.Board;

/// <summary>One of the app's deployments as the board shows it: in an environment's timeline, or as what is live.</summary>
public sealed record BoardDeployment
{
    public required long DeploymentId { get; init; }
    public required string Sha { get; init; }
    public long? PullRequest { get; init; }
    public required string RequestedBy { get; init; }

    /// <summary><c>merge</c> or <c>command</c>; with the command as written, e.g. <c>.deploy main</c>.</summary>
    public required string Source { get; init; }

    public string? Command { get; init; }

    /// <summary>GitHub's state: <c>success</c>, <c>failure</c>, <c>error</c>, <c>inactive</c>, or a running one's (<c>in_progress</c>, <c>queued</c>).</summary>
    public required string State { get; init; }

    public string? Description { get; init; }

    /// <summary>When it reached <see cref="State"/> (the status's time on GitHub).</summary>
    public required DateTimeOffset At { get; init; }

    public string? EnvironmentUrl { get; init; }
    public string? LogUrl { get; init; }
}

/// <summary>What the board knows of one repository's environment, kept up to date as statuses arrive.</summary>
public sealed record BoardEnvironment
{
    public required string Repository { get; init; }
    public required string Environment { get; init; }

    /// <summary>The newest deployment that succeeded: what is live.</summary>
    public BoardDeployment? Live { get; init; }

    /// <summary>A deployment with a status that is not final yet (queued, held, in progress).</summary>
    public BoardDeployment? Current { get; init; }

    /// <summary>The last deployments with a result, newest first (at most <see cref="TableDeployBoard.RecentKept"/>).</summary>
    public IReadOnlyList<BoardDeployment> Recent { get; init; } = [];

    /// <summary>When the environment started failing (a failed deployment after the last success), for time to restore.</summary>
    public DateTimeOffset? FailingSince { get; init; }
}

/// <summary>A deployment's result as DORA's four keys count it.</summary>
public sealed record DeploymentResult
{
    public required string Repository { get; init; }
    public required long DeploymentId { get; init; }
    public long? PullRequest { get; init; }

    /// <summary>True: success; false: failure or error (the app's own result, from its ledger).</summary>
    public required bool Succeeded { get; init; }

    public required DateTimeOffset FinishedAt { get; init; }

    /// <summary>Merge to success, for deployments of a merge; null for commands (they deploy before the merge).</summary>
    public long? LeadSeconds { get; init; }

    /// <summary>The time the environment had been failing when this success restored it.</summary>
    public long? RestoreSeconds { get; init; }

    /// <summary>A rollback's: the deployment it replaced (and when that went live), a failed change.</summary>
    public (long DeploymentId, DateTimeOffset At)? Undoes { get; init; }
}

/// <summary>What a status changed in the four keys: the result it counted, and the earlier deployments it made failed changes.</summary>
public sealed record BoardUpdate(DeploymentResult Result, IReadOnlyList<long> Undone);

/// <summary>One day of one environment's results (UTC), kept as results arrive: what the four keys are computed from.</summary>
public sealed record DayTotals
{
    public required DateOnly Day { get; init; }
    public int Succeeded { get; init; }
    public int Failed { get; init; }
    public int Undone { get; init; }
    public IReadOnlyList<long> LeadSeconds { get; init; } = [];
    public IReadOnlyList<long> RestoreSeconds { get; init; } = [];
}
