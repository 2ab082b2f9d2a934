using GitHubStandIn;

namespace DeployFunctions.Tests.Support;

/// <summary>
/// The GitHub stand-in (as a GitHub App installation, id 42) sending its signed webhooks to a recording endpoint in
/// place of the app: for tests of what the stand-in answers and sends.
/// </summary>
internal sealed class StandInWithApp : IAsyncDisposable
{
    private StandInWithApp(RecordingServer app, StandInServer gitHub) => (App, GitHub) = (app, gitHub);

    /// <summary>Where the webhooks arrive.</summary>
    public RecordingServer App { get; }

    public StandInServer GitHub { get; }

    public static async Task<StandInWithApp> StartAsync()
    {
        var app = await RecordingServer.StartAsync();
        var gitHub = new StandInServer(new StandInOptions { WebhookUrl = app.Url, WebhookSecret = Deliveries.Secret, InstallationId = 42 });
        await gitHub.StartAsync();
        return new StandInWithApp(app, gitHub);
    }

    public async ValueTask DisposeAsync()
    {
        await GitHub.DisposeAsync();
        await App.DisposeAsync();
    }
}
