namespace DeployFunctions.Queues;

/// <summary>What a queue handler did with one delivery; the worker turns it into logs, retries or poison.</summary>
public abstract record HandlerOutcome(string Reason)
{
    /// <summary>The work is done (or was already done).</summary>
    public sealed record Completed(string Reason) : HandlerOutcome(Reason);

    /// <summary>Deliberately not acted on; the reason says why.</summary>
    public sealed record Skipped(string Reason) : HandlerOutcome(Reason);

    /// <summary>
    /// Try again after <paramref name="Delay"/>. <paramref name="IsFault"/>: a failure that counts against
    /// <c>Retry__MaxAttempts</c>; otherwise a wait with its own bound (checks pending, environment busy).
    /// </summary>
    public sealed record RetryLater(TimeSpan Delay, string Reason, bool IsFault) : HandlerOutcome(Reason);

    /// <summary>Cannot succeed by retrying: logged as an error and moved to the poison queue for a replay after a fix.</summary>
    public sealed record Failed(string Reason) : HandlerOutcome(Reason);
}
