namespace DeployFunctions.Tests.Infrastructure;

/// <summary>Where the infrastructure tests find a Bicep CLI on machines other than linux-x64.</summary>
public sealed class BicepCliTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("bicep-cli").FullName;
    private readonly string nuget;

    public BicepCliTests()
    {
        nuget = Path.Combine(folder, "nuget-bicep");
        File.WriteAllText(nuget, "");
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Fake(string relative)
    {
        var path = Path.Combine(folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        return path;
    }

    [Fact]
    public void On_linux_x64_the_cli_restored_from_NuGet_is_used() =>
        Assert.Equal(nuget, BicepCli.Find(linuxX64: true, nuget, Path.GetDirectoryName(Fake("path/bicep")), null, windows: false));

    [Fact]
    public void Elsewhere_a_bicep_on_the_path_is_used()
    {
        var onPath = Fake("path/bicep");

        Assert.Equal(onPath, BicepCli.Find(linuxX64: false, nuget, $"{folder}/empty{Path.PathSeparator}{Path.GetDirectoryName(onPath)}", null, windows: false));
    }

    [Fact]
    public void Else_the_one_az_bicep_install_put_in_the_home_folder()
    {
        var az = Fake("home/.azure/bin/bicep.exe");

        Assert.Equal(az, BicepCli.Find(linuxX64: false, nuget, "", Path.Combine(folder, "home"), windows: true));
    }

    [Fact]
    public void With_none_the_infrastructure_tests_are_skipped_not_failed() =>
        Assert.Null(BicepCli.Find(linuxX64: false, nuget, Path.Combine(folder, "nothing"), Path.Combine(folder, "nohome"), windows: false));
}
